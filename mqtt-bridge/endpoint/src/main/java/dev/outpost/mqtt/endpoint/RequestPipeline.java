package dev.outpost.mqtt.endpoint;

import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.ProtocolException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

/**
 * What happens to a device request once a transport has established who sent it and what kind it is, the same for
 * the embedded endpoint and for the client of an external broker: correlation data and size limits, repeats answered
 * from the cache, rate limits (with and without SVID), a cap on requests in flight, strict decoding, the handler on
 * a timeout, and its outcome mapped to the reply envelope. Only what a transport alone can know (topics, Response
 * Topic, certificates) is checked before this.
 */
final class RequestPipeline {
    static final int MAX_CORRELATION_BYTES = 64;
    static final long HANDLER_TIMEOUT_MS = 60_000;
    private static final Logger log = LoggerFactory.getLogger(RequestPipeline.class);

    /**
     * A request as the transport received it.
     *
     * @param authenticated the sender proved the device id with its SVID
     * @param inFlight      the counter of requests being worked on that this one counts against (per connection, or
     *                      per device where the transport has no connection of its own)
     */
    record Inbound(String deviceId, Kind kind, boolean authenticated, X509Certificate certificate, byte[] correlation,
            byte[] payload, AtomicInteger inFlight) {
    }

    /** Sends a reply to the device the request came from; {@code correlation} is null when it must not be echoed. */
    @FunctionalInterface
    interface Replier {
        void send(byte[] correlation, byte[] payload);
    }

    private final Vertx vertx;
    private final Codec codec;
    private final RateLimiter limiter;
    private final ResponseCache cache;
    private final RequestHandler handler;
    private final EndpointStats stats;
    private final int maxInFlight;
    // A device hammering the appliance gets one log line a minute per cause, not one per request.
    private final Cache<String, Boolean> recentlyLogged = Caffeine.newBuilder().maximumSize(10_000)
            .expireAfterWrite(Duration.ofMinutes(1)).build();

    RequestPipeline(Vertx vertx, Codec codec, RateLimiter limiter, ResponseCache cache, RequestHandler handler,
            EndpointStats stats, int maxInFlight) {
        this.vertx = vertx;
        this.codec = codec;
        this.limiter = limiter;
        this.cache = cache;
        this.handler = handler;
        this.stats = stats;
        this.maxInFlight = maxInFlight;
    }

    Codec codec() {
        return codec;
    }

    /** Works on the request; the reply, whatever it is, goes to {@code replier}, exactly once. */
    void handle(Inbound in, Replier replier) {
        byte[] corr = in.correlation();
        if (corr == null || corr.length == 0) {
            refuse(in, ErrorCode.BAD_REQUEST, "request without Correlation Data", r -> replier.send(null, r));
            return;
        }
        if (corr.length > MAX_CORRELATION_BYTES) {
            // not echoed: the reply would carry what we refuse to carry
            refuse(in, ErrorCode.BAD_REQUEST, "Correlation Data of " + corr.length + " bytes, the limit is "
                    + MAX_CORRELATION_BYTES, r -> replier.send(null, r));
            return;
        }
        if (in.payload().length > codec.limits().maxPayloadBytes()) {
            refuse(in, ErrorCode.TOO_LARGE, in.payload().length + " bytes, the limit is "
                    + codec.limits().maxPayloadBytes(), r -> replier.send(corr, r));
            return;
        }
        ResponseCache.Key key = ResponseCache.Key.of(in.deviceId(), in.authenticated(), corr);
        ResponseCache.Lookup found = cache.lookupOrReserve(key, in.kind());
        if (found.hit()) {
            stats.cacheHit();
            log.debug("device {}: repeated {} request answered from the cache", in.deviceId(), in.kind().wire());
            found.existing().onComplete(ar -> replier.send(corr, ar.succeeded() ? ar.result() : internal()));
            return;
        }
        Promise<byte[]> reply = found.fresh();
        reply.future().onSuccess(bytes -> replier.send(corr, bytes));

        // Refusals before the handler are not cached: a repeat after the cause is gone deserves a real answer.
        RateLimiter.Verdict rate = limiter.tryAcquire(in.deviceId(), in.authenticated());
        if (rate != RateLimiter.Verdict.ALLOWED) {
            refuseUncached(in, key, reply, ErrorCode.RATE_LIMITED, rate == RateLimiter.Verdict.DEVICE
                    ? "too many requests from this device; try again later"
                    : "too many enrollment requests at this site right now; try again later",
                    RetryHints.rateLimited(rate == RateLimiter.Verdict.SHARED));
            return;
        }
        if (in.inFlight().get() >= maxInFlight) {
            refuseUncached(in, key, reply, ErrorCode.RATE_LIMITED,
                    "more than " + maxInFlight + " requests in flight; wait for the replies", 0);
            return;
        }
        Object message;
        try {
            message = codec.decodeRequest(in.kind(), in.payload());
        } catch (ProtocolException e) {
            refuseUncached(in, key, reply, e.code(), e.getMessage(), 0);
            return;
        }
        call(in, new DeviceRequest(in.deviceId(), in.kind(), message, in.authenticated(), in.certificate(), corr),
                key, reply);
    }

    private void call(Inbound in, DeviceRequest request, ResponseCache.Key key, Promise<byte[]> reply) {
        in.inFlight().incrementAndGet();
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
            in.inFlight().decrementAndGet();
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
                logRefusal(in, pe.code(), pe.getMessage(), "refused by the appliance");
                stats.rejection(pe.code());
                bytes = codec.error(pe.code(), pe.getMessage(), pe.retryAfterMs());
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

    byte[] internal() {
        return codec.error(ErrorCode.INTERNAL, "the appliance failed; repeat later");
    }

    private void refuseUncached(Inbound in, ResponseCache.Key key, Promise<byte[]> reply, ErrorCode code, String reason,
            long retryAfterMs) {
        stats.rejection(code);
        logRefusal(in, code, reason, "refused");
        cache.forget(key, reply);
        reply.complete(codec.error(code, reason, retryAfterMs));
    }

    private void refuse(Inbound in, ErrorCode code, String reason, java.util.function.Consumer<byte[]> send) {
        stats.rejection(code);
        logRefusal(in, code, reason, "refused");
        send.accept(codec.error(code, reason));
    }

    private void logRefusal(Inbound in, ErrorCode code, String reason, String what) {
        String cause = in.deviceId() + "|" + code;
        if (recentlyLogged.asMap().putIfAbsent(cause, Boolean.TRUE) == null) {
            log.info("device {} ({}): {} {}: {} ({}); repeats within a minute are not logged", in.deviceId(),
                    in.authenticated() ? "SVID" : "no SVID", in.kind().wire(), what, code, reason);
        } else {
            log.debug("device {}: {} {}: {} ({})", in.deviceId(), in.kind().wire(), what, code, reason);
        }
    }
}
