package dev.outpost.mqtt.endpoint;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.Kind;

/**
 * Counters for metrics; the appliance reads {@link #snapshot()} and exports it (no Micrometer here, so the endpoint
 * stays free of the metrics stack). Thread-safe.
 */
public final class EndpointStats {
    private final LongAdder connectionsAccepted = new LongAdder();
    private final LongAdder connectionsRefused = new LongAdder();
    private final LongAdder takeovers = new LongAdder();
    private final LongAdder cacheHits = new LongAdder();
    private final LongAdder subscriptionsRefused = new LongAdder();
    private final EnumMap<Kind, LongAdder> requests = new EnumMap<>(Kind.class);
    private final EnumMap<ErrorCode, LongAdder> rejections = new EnumMap<>(ErrorCode.class);
    private final IntSupplier connected;

    EndpointStats(IntSupplier connected) {
        this.connected = connected;
        for (Kind k : Kind.values()) {
            requests.put(k, new LongAdder());
        }
        for (ErrorCode c : ErrorCode.values()) {
            rejections.put(c, new LongAdder());
        }
    }

    void connectionAccepted() {
        connectionsAccepted.increment();
    }

    void connectionRefused() {
        connectionsRefused.increment();
    }

    void takeover() {
        takeovers.increment();
    }

    void cacheHit() {
        cacheHits.increment();
    }

    void subscriptionRefused() {
        subscriptionsRefused.increment();
    }

    void request(Kind kind) {
        requests.get(kind).increment();
    }

    void rejection(ErrorCode code) {
        rejections.get(code).increment();
    }

    /**
     * @param requests   requests that reached the handler, by kind
     * @param rejections error replies sent, by code (the endpoint's refusals and the handler's errors)
     */
    public record Snapshot(int connected, long connectionsAccepted, long connectionsRefused, long takeovers,
            long cacheHits, long subscriptionsRefused, Map<Kind, Long> requests, Map<ErrorCode, Long> rejections) {
    }

    public Snapshot snapshot() {
        EnumMap<Kind, Long> r = new EnumMap<>(Kind.class);
        requests.forEach((k, v) -> r.put(k, v.sum()));
        EnumMap<ErrorCode, Long> e = new EnumMap<>(ErrorCode.class);
        rejections.forEach((k, v) -> e.put(k, v.sum()));
        return new Snapshot(connected.getAsInt(), connectionsAccepted.sum(), connectionsRefused.sum(), takeovers.sum(),
                cacheHits.sum(), subscriptionsRefused.sum(), Map.copyOf(r), Map.copyOf(e));
    }
}
