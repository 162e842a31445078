package dev.outpost.mqtt.endpoint;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Token buckets for requests from clients without an SVID: one per device id and one for all of them, since such a
 * client may claim any device id and the global bucket is what bounds the appliance's work. The per-device buckets
 * are kept in a bounded LRU; an evicted device starts full again, which the global bucket caps. Thread-safe.
 */
final class RateLimiter {
    private static final int MAX_TRACKED_DEVICES = 10_000;

    private final RateLimit perDevice;
    private final LongSupplier clock;
    private final Bucket global;
    private final LinkedHashMap<String, Bucket> devices = new LinkedHashMap<>(16, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Bucket> eldest) {
            return size() > MAX_TRACKED_DEVICES;
        }
    };

    RateLimiter(RateLimit perDevice, RateLimit global) {
        this(perDevice, global, System::nanoTime);
    }

    RateLimiter(RateLimit perDevice, RateLimit global, LongSupplier clock) {
        this.perDevice = perDevice;
        this.clock = clock;
        this.global = new Bucket(global, clock.getAsLong());
    }

    /** Takes a permit from the device's bucket and the global one; false when either is empty (and takes none). */
    synchronized boolean tryAcquire(String deviceId) {
        long now = clock.getAsLong();
        Bucket d = devices.computeIfAbsent(deviceId, k -> new Bucket(perDevice, now));
        d.refill(now);
        global.refill(now);
        if (d.tokens < 1 || global.tokens < 1) {
            return false;
        }
        d.tokens--;
        global.tokens--;
        return true;
    }

    private static final class Bucket {
        private final double capacity;
        private final double perNano;
        private double tokens;
        private long last;

        Bucket(RateLimit limit, long now) {
            this.capacity = limit.permits();
            this.perNano = limit.permits() / (double) limit.period().toNanos();
            this.tokens = capacity;
            this.last = now;
        }

        void refill(long now) {
            long elapsed = now - last;
            if (elapsed > 0) {
                tokens = Math.min(capacity, tokens + elapsed * perNano);
                last = now;
            }
        }
    }
}
