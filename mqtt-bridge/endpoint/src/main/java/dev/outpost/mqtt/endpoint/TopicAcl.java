package dev.outpost.mqtt.endpoint;

import java.util.Optional;

import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.Topics;

/**
 * Which topics a connection may use, in the spirit of a Mosquitto {@code pattern} ACL pinned to the client id: its
 * own request, reply and command topics, and the site broadcasts. The endpoint routes by exact topic, so the only
 * wildcard filter granted is {@code <prefix>/site/#}.
 */
final class TopicAcl {
    private final Topics topics;
    private final String siteHead;
    private final String siteAll;

    TopicAcl(Topics topics) {
        this.topics = topics;
        this.siteHead = topics.prefix() + "/site/";
        this.siteAll = siteHead + "#";
    }

    boolean maySubscribe(String deviceId, String filter) {
        return filter != null && (filter.equals(topics.response(deviceId)) || filter.equals(topics.command(deviceId))
                || filter.equals(topics.siteBundle()) || filter.equals(topics.siteRevocations())
                || filter.equals(siteAll));
    }

    /** A topic the appliance may broadcast on: under {@code <prefix>/site/}, one plain name. */
    boolean isSiteTopic(String topic) {
        return topic != null && topic.startsWith(siteHead) && topic.length() > siteHead.length()
                && topic.indexOf('+') < 0 && topic.indexOf('#') < 0 && topic.indexOf('\0') < 0;
    }

    /** Matching for the filters {@link #maySubscribe} grants: exact, or the site wildcard. */
    boolean matches(String filter, String topic) {
        return filter.equals(topic) || filter.equals(siteAll) && topic.startsWith(siteHead);
    }

    /** What a publish may be; either a kind or a refusal. */
    record PublishDecision(Kind kind, ErrorCode refusal, String reason) {
        boolean allowed() {
            return refusal == null;
        }
    }

    PublishDecision mayPublish(String deviceId, boolean authenticated, String topic) {
        Optional<Topics.RequestTopic> rt = topics.parseRequest(topic);
        if (rt.isEmpty()) {
            return new PublishDecision(null, ErrorCode.FORBIDDEN, "not a request topic of this appliance");
        }
        if (!rt.get().deviceId().equals(deviceId)) {
            return new PublishDecision(null, ErrorCode.FORBIDDEN, "the topic names another device");
        }
        Kind kind = rt.get().kind();
        if (!authenticated && !kind.enrollment()) {
            return new PublishDecision(kind, ErrorCode.UNAUTHORIZED, "'" + kind.wire() + "' needs a node SVID");
        }
        return new PublishDecision(kind, null, null);
    }
}
