package dev.outpost.mqtt.protocol;

import java.util.Optional;

/**
 * Topic names under a configurable prefix (default {@code outpost/v1}). Each device has its own subtree,
 * named by its device id, so broker ACLs and our endpoint can pin a client to it.
 */
public final class Topics {
    public static final String DEFAULT_PREFIX = "outpost/v1";

    private final String prefix;

    public Topics(String prefix) {
        if (prefix == null || prefix.isEmpty() || prefix.startsWith("/") || prefix.endsWith("/")
                || prefix.contains("+") || prefix.contains("#")) {
            throw new IllegalArgumentException("topic prefix '" + prefix + "': no wildcards, no leading or trailing /");
        }
        this.prefix = prefix;
    }

    public Topics() {
        this(DEFAULT_PREFIX);
    }

    public String prefix() {
        return prefix;
    }

    public String request(String deviceId, Kind kind) {
        return prefix + "/dev/" + deviceId + "/req/" + kind.wire();
    }

    public String response(String deviceId) {
        return prefix + "/dev/" + deviceId + "/resp";
    }

    public String command(String deviceId) {
        return prefix + "/dev/" + deviceId + "/cmd";
    }

    public String siteBundle() {
        return prefix + "/site/bundle";
    }

    public String siteRevocations() {
        return prefix + "/site/revocations";
    }

    /** A request topic's device id and kind; empty for any other topic. */
    public Optional<RequestTopic> parseRequest(String topic) {
        String head = prefix + "/dev/";
        if (topic == null || !topic.startsWith(head)) {
            return Optional.empty();
        }
        String[] rest = topic.substring(head.length()).split("/", -1);
        if (rest.length != 3 || !rest[1].equals("req")) {
            return Optional.empty();
        }
        return Kind.fromWire(rest[2]).map(k -> new RequestTopic(rest[0], k));
    }

    /** Device id and kind of a request topic. The device id is as written: callers validate it. */
    public record RequestTopic(String deviceId, Kind kind) {
    }

    /**
     * An enrollment request through a site broker: under the enrolling client's own id, since on the broker's
     * anonymous listener the client id is the only name the ACL can bind a client to, and a device id would be
     * a claim anyone can make (it would also open the device's own {@code resp} and {@code cmd} topics).
     */
    public String enrollmentRequest(String clientId, String deviceId, Kind kind) {
        return prefix + "/enroll/" + clientId + "/" + deviceId + "/req/" + kind.wire();
    }

    /** Where the replies to {@link #enrollmentRequest} go: readable only by the client with that id. */
    public String enrollmentResponse(String clientId, String deviceId) {
        return prefix + "/enroll/" + clientId + "/" + deviceId + "/resp";
    }

    /**
     * Client id, device id and kind of an enrollment request topic; empty for any other topic, including one
     * with more levels (a client id containing '/' spans levels and so can only ever publish deeper topics).
     */
    public Optional<EnrollmentTopic> parseEnrollmentRequest(String topic) {
        String head = prefix + "/enroll/";
        if (topic == null || !topic.startsWith(head)) {
            return Optional.empty();
        }
        String[] rest = topic.substring(head.length()).split("/", -1);
        if (rest.length != 4 || rest[0].isEmpty() || !rest[2].equals("req")) {
            return Optional.empty();
        }
        return Kind.fromWire(rest[3]).map(k -> new EnrollmentTopic(rest[0], rest[1], k));
    }

    /** As written in the topic: callers validate the device id and that the kind is an enrollment kind. */
    public record EnrollmentTopic(String clientId, String deviceId, Kind kind) {
        public String response(Topics topics) {
            return topics.enrollmentResponse(clientId, deviceId);
        }
    }
}
