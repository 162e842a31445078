package dev.outpost.mqtt.endpoint;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.Topics;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.vertx.mqtt.messages.MqttPublishMessage;

/**
 * The embedded endpoint's side of a device's PUBLISH: what only a connection can tell (the topic is the connection's
 * own and its kind allowed for it, the Response Topic is the device's own); the rest is the {@link RequestPipeline}
 * that the external broker client shares. Every reply goes to the connection's own response topic only.
 */
final class RequestDispatcher {
    static final int MAX_CORRELATION_BYTES = RequestPipeline.MAX_CORRELATION_BYTES;
    private static final Logger log = LoggerFactory.getLogger(RequestDispatcher.class);

    private final Topics topics;
    private final TopicAcl acl;
    private final RequestPipeline pipeline;
    private final EndpointStats stats;

    RequestDispatcher(Topics topics, TopicAcl acl, RequestPipeline pipeline, EndpointStats stats) {
        this.topics = topics;
        this.acl = acl;
        this.pipeline = pipeline;
        this.stats = stats;
    }

    void onPublish(DeviceConnection conn, MqttPublishMessage msg) {
        String id = conn.deviceId();
        String topic = msg.topicName();
        MqttProperties props = msg.properties();
        byte[] corr = binary(props, MqttProperties.MqttPropertyType.CORRELATION_DATA);
        String responseTopic = string(props, MqttProperties.MqttPropertyType.RESPONSE_TOPIC);
        // an over-long correlation is not echoed: the reply would carry what we refuse to carry
        byte[] replyCorr = corr != null && corr.length <= MAX_CORRELATION_BYTES ? corr : null;

        TopicAcl.PublishDecision d = acl.mayPublish(id, conn.authenticated(), topic);
        if (!d.allowed()) {
            refuse(conn, topic, replyCorr, d.refusal(), d.reason());
            return;
        }
        if (responseTopic == null) {
            refuse(conn, topic, replyCorr, ErrorCode.FORBIDDEN, "request without Response Topic");
            return;
        }
        if (!responseTopic.equals(topics.response(id))) {
            refuse(conn, topic, replyCorr, ErrorCode.FORBIDDEN, "Response Topic is not the device's own");
            return;
        }
        pipeline.handle(new RequestPipeline.Inbound(id, d.kind(), conn.authenticated(), conn.certificate(), corr,
                msg.payload().getBytes(), conn.inFlight()), (c, payload) -> deliver(conn, c, payload));
    }

    private void refuse(DeviceConnection conn, String topic, byte[] corr, ErrorCode code, String reason) {
        stats.rejection(code);
        log.info("refused request from device {} ({}) on topic {}: {} ({})", conn.deviceId(),
                conn.authenticated() ? "SVID" : "no SVID", printable(topic), code, reason);
        deliver(conn, corr, pipeline.codec().error(code, reason));
    }

    /** Replies go to the connection's own response topic only, whatever the request named. */
    private void deliver(DeviceConnection conn, byte[] corr, byte[] payload) {
        MqttProperties p = new MqttProperties();
        if (corr != null) {
            p.add(new MqttProperties.BinaryProperty(MqttProperties.MqttPropertyType.CORRELATION_DATA.value(), corr));
        }
        if (!conn.publish(topics.response(conn.deviceId()), payload, false, p)) {
            log.debug("device {}: reply dropped, the connection is gone or not subscribed to its response topic",
                    conn.deviceId());
        }
    }

    static String printable(String s) {
        if (s == null) {
            return "(none)";
        }
        String cut = s.length() > 200 ? s.substring(0, 200) + "…" : s;
        return cut.replaceAll("[^\\x20-\\x7e…]", "?");
    }

    private static byte[] binary(MqttProperties props, MqttProperties.MqttPropertyType type) {
        MqttProperties.MqttProperty<?> p = props == null ? null : props.getProperty(type.value());
        return p != null && p.value() instanceof byte[] b ? b : null;
    }

    private static String string(MqttProperties props, MqttProperties.MqttPropertyType type) {
        MqttProperties.MqttProperty<?> p = props == null ? null : props.getProperty(type.value());
        return p != null && p.value() instanceof String s ? s : null;
    }
}
