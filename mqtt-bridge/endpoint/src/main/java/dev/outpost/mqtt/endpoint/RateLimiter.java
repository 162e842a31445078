package dev.outpost.mqtt.endpoint;

import java.time.Duration;
import java.util.function.LongSupplier;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

/**
 * Token buckets for device requests.
 * <ul>
 * <li>Without SVID: one bucket per device id, and one for all of them, since such a client may claim any device id and
 * the shared bucket is what bounds the appliance's work. Ids the site already knows ({@link KnownDevices}) share a
 * second bucket of the same size, so a flood of unknown EKs cannot lock out a trusted device that enrolls or
 * re-enrolls meanwhile.</li>
 * <li>With SVID: one bucket per device, so an enrolled device that sends refused requests as fast as it can costs
 * a bounded amount; its burst covers the largest evidence upload in parts.</li>
 * </ul>
 * Per-device buckets live in bounded, expiring maps; an evicted device starts full again, which the shared buckets
 * cap. Thread-safe.
 */
final class RateLimiter {
    private static final int MAX_TRACKED_DEVICES = 20_000;

    /** Which bucket refused, for the reply and the counters. */
    enum Verdict {
        ALLOWED, DEVICE, SHARED
    }

    private final RateLimit perDevice;
    private final RateLimit authenticatedPerDevice;
    private final KnownDevices known;
    private final LongSupplier clock;
    private final Bucket unknownShared;
    private final Bucket knownShared;
    private final Cache<String, Bucket> unauthenticated;
    private final Cache<String, Bucket> authenticated;

    RateLimiter(RateLimit perDevice, RateLimit global) {
        this(perDevice, global, defaultAuthenticated(), KnownDevices.NONE, System::nanoTime);
    }

    RateLimiter(RateLimit perDevice, RateLimit global, RateLimit authenticatedPerDevice, KnownDevices known) {
        this(perDevice, global, authenticatedPerDevice, known, System::nanoTime);
    }

    RateLimiter(RateLimit perDevice, RateLimit global, LongSupplier clock) {
        this(perDevice, global, defaultAuthenticated(), KnownDevices.NONE, clock);
    }

    RateLimiter(RateLimit perDevice, RateLimit global, RateLimit authenticatedPerDevice, KnownDevices known,
            LongSupplier clock) {
        this.perDevice = perDevice;
        this.authenticatedPerDevice = authenticatedPerDevice;
        this.known = known;
        this.clock = clock;
        this.unknownShared = new Bucket(global, clock.getAsLong());
        this.knownShared = new Bucket(global, clock.getAsLong());
        this.unauthenticated = buckets(perDevice.period(), clock);
        this.authenticated = buckets(authenticatedPerDevice.period(), clock);
    }

    /** 1,200 at once (a 32 MiB upload in 32 KiB parts, with room), then 10 a second. */
    static RateLimit defaultAuthenticated() {
        return new RateLimit(1200, Duration.ofMinutes(2));
    }

    // A bucket untouched for a whole period is full again: forgetting it changes nothing.
    private static Cache<String, Bucket> buckets(Duration period, LongSupplier clock) {
        return Caffeine.newBuilder().maximumSize(MAX_TRACKED_DEVICES).expireAfterAccess(period)
                .ticker(clock::getAsLong).executor(Runnable::run).build();
    }

    /** Takes a permit from the device's bucket (and the shared one without SVID); takes none when one is empty. */
    synchronized Verdict tryAcquire(String deviceId, boolean withSvid) {
        long now = clock.getAsLong();
        if (withSvid) {
            Bucket d = authenticated.get(deviceId, k -> new Bucket(authenticatedPerDevice, now));
            return d.take(now) ? Verdict.ALLOWED : Verdict.DEVICE;
        }
        Bucket d = unauthenticated.get(deviceId, k -> new Bucket(perDevice, now));
        Bucket shared = known.known(deviceId) ? knownShared : unknownShared;
        d.refill(now);
        shared.refill(now);
        if (d.tokens < 1) {
            return Verdict.DEVICE;
        }
        if (shared.tokens < 1) {
            return Verdict.SHARED;
        }
        d.tokens--;
        shared.tokens--;
        return Verdict.ALLOWED;
    }

    /** Without SVID; true when allowed. */
    boolean tryAcquire(String deviceId) {
        return tryAcquire(deviceId, false) == Verdict.ALLOWED;
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

        boolean take(long now) {
            refill(now);
            if (tokens < 1) {
                return false;
            }
            tokens--;
            return true;
        }
    }
}
