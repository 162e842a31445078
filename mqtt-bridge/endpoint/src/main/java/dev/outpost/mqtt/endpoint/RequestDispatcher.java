package dev.outpost.mqtt.endpoint;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.ProtocolException;
import dev.outpost.mqtt.protocol.Topics;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.mqtt.messages.MqttPublishMessage;

/**
 * Turns a device's PUBLISH into a handler call and a reply: checks topic, response topic, correlation data and size,
 * rate-limits clients without SVID, answers repeats from the cache, decodes strictly, and maps the handler's outcome
 * to the reply envelope. Every refusal is logged with device, topic and reason, and answered on the device's own
 * response topic only.
 */
final class RequestDispatcher {
    static final int MAX_CORRELATION_BYTES = 64;
    static final long HANDLER_TIMEOUT_MS = 60_000;
    private static final Logger log = LoggerFactory.getLogger(RequestDispatcher.class);

    private final Vertx vertx;
    private final Topics topics;
    private final Codec codec;
    private final TopicAcl acl;
    private final RateLimiter limiter;
    private final ResponseCache cache;
    private final RequestHandler handler;
    private final EndpointStats stats;
    private final int maxInFlight;

    RequestDispatcher(Vertx vertx, Topics topics, Codec codec, TopicAcl acl, RateLimiter limiter, ResponseCache cache,
            RequestHandler handler, EndpointStats stats, int maxInFlight) {
        this.vertx = vertx;
        this.topics = topics;
        this.codec = codec;
        this.acl = acl;
        this.limiter = limiter;
        this.cache = cache;
        this.handler = handler;
        this.stats = stats;
        this.maxInFlight = maxInFlight;
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
        Kind kind = d.kind();
        if (responseTopic == null) {
            refuse(conn, topic, replyCorr, ErrorCode.FORBIDDEN, "request without Response Topic");
            return;
        }
        if (!responseTopic.equals(topics.response(id))) {
            refuse(conn, topic, replyCorr, ErrorCode.FORBIDDEN, "Response Topic is not the device's own");
            return;
        }
        if (corr == null || corr.length == 0) {
            refuse(conn, topic, null, ErrorCode.BAD_REQUEST, "request without Correlation Data");
            return;
        }
        if (corr.length > MAX_CORRELATION_BYTES) {
            refuse(conn, topic, null, ErrorCode.BAD_REQUEST,
                    "Correlation Data of " + corr.length + " bytes, the limit is " + MAX_CORRELATION_BYTES);
            return;
        }
        int size = msg.payload().length();
        if (size > codec.limits().maxPayloadBytes()) {
            refuse(conn, topic, corr, ErrorCode.TOO_LARGE,
                    size + " bytes, the limit is " + codec.limits().maxPayloadBytes());
            return;
        }

        ResponseCache.Key key = ResponseCache.Key.of(id, conn.authenticated(), corr);
        ResponseCache.Lookup found = cache.lookupOrReserve(key, kind);
        if (found.hit()) {
            stats.cacheHit();
            log.debug("device {}: repeated {} request answered from the cache", id, kind.wire());
            found.existing().onComplete(ar -> deliver(conn, corr, ar.succeeded() ? ar.result() : internal()));
            return;
        }
        Promise<byte[]> reply = found.fresh();
        reply.future().onSuccess(bytes -> deliver(conn, corr, bytes));

        // pre-handler refusals are not cached: a repeat after the cause is gone deserves a real answer
        if (!conn.authenticated() && !limiter.tryAcquire(id)) {
            refuseReserved(conn, topic, key, reply, ErrorCode.RATE_LIMITED,
                    "too many requests without SVID; try again later");
            return;
        }
        if (conn.inFlight().get() >= maxInFlight) {
            refuseReserved(conn, topic, key, reply, ErrorCode.RATE_LIMITED,
                    "more than " + maxInFlight + " requests in flight on this connection");
            return;
        }
        Object message;
        try {
            message = codec.decodeRequest(kind, msg.payload().getBytes());
        } catch (ProtocolException e) {
            refuseReserved(conn, topic, key, reply, e.code(), e.getMessage());
            return;
        }
        call(conn, new DeviceRequest(id, kind, message, conn.authenticated(), conn.certificate(), corr), key, reply);
    }

    private void call(DeviceConnection conn, DeviceRequest request, ResponseCache.Key key, Promise<byte[]> reply) {
        conn.inFlight().incrementAndGet();
        stats.request(request.kind());
        Promise<Object> outcome = Promise.promise();
        long timer = vertx.setTimer(HANDLER_TIMEOUT_MS,
                t -> outcome.tryFail(new IllegalStateException("handler did not answer within " + HANDLER_TIMEOUT_MS + " ms")));
        try {
            Future<Object> f = handler.handle(request);
            if (f == null) {
                outcome.tryFail(new IllegalStateException("handler returned no future"));
            } else {
                // not outcome::tryComplete: with Object results that would complete with the AsyncResult itself
                f.onComplete(ar -> {
                    if (ar.succeeded()) {
                        outcome.tryComplete(ar.result());
                    } else {
                        outcome.tryFail(ar.cause());
                    }
                });
            }
        } catch (RuntimeException e) {
            outcome.tryFail(e);
        }
        outcome.future().onComplete(ar -> {
            vertx.cancelTimer(timer);
            conn.inFlight().decrementAndGet();
            byte[] bytes;
            boolean keep = true;
            if (ar.succeeded()) {
                try {
                    bytes = codec.ok(ar.result());
                } catch (RuntimeException e) {
                    log.warn("device {}: {} reply could not be encoded", request.deviceId(), request.kind().wire(), e);
                    stats.rejection(ErrorCode.INTERNAL);
                    bytes = internal();
                    keep = false;
                }
            } else if (ar.cause() instanceof ProtocolException pe) {
                log.info("device {}: {} refused by the appliance: {} ({})", request.deviceId(), request.kind().wire(),
                        pe.code(), pe.getMessage());
                stats.rejection(pe.code());
                bytes = codec.error(pe.code(), pe.getMessage());
                keep = pe.code() != ErrorCode.INTERNAL && pe.code() != ErrorCode.RATE_LIMITED;
            } else {
                log.warn("device {}: {} failed in the appliance", request.deviceId(), request.kind().wire(), ar.cause());
                stats.rejection(ErrorCode.INTERNAL);
                bytes = internal();
                keep = false;
            }
            if (!keep) {
                cache.forget(key, reply);
            }
            reply.complete(bytes);
        });
    }

    private byte[] internal() {
        return codec.error(ErrorCode.INTERNAL, "the appliance failed; repeat later");
    }

    private void refuseReserved(DeviceConnection conn, String topic, ResponseCache.Key key, Promise<byte[]> reply,
            ErrorCode code, String reason) {
        logRefusal(conn, topic, code, reason);
        cache.forget(key, reply);
        reply.complete(codec.error(code, reason));
    }

    private void refuse(DeviceConnection conn, String topic, byte[] corr, ErrorCode code, String reason) {
        logRefusal(conn, topic, code, reason);
        deliver(conn, corr, codec.error(code, reason));
    }

    private void logRefusal(DeviceConnection conn, String topic, ErrorCode code, String reason) {
        stats.rejection(code);
        log.info("refused request from device {} ({}) on topic {}: {} ({})", conn.deviceId(),
                conn.authenticated() ? "SVID" : "no SVID", printable(topic), code, reason);
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
