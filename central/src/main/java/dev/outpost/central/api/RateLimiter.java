package dev.outpost.central.api;

import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A token bucket per client address for the unauthenticated join endpoints. Per instance, on purpose: it bounds
 * what one address costs one process (RSA work, DB rows); it decides nothing a second instance must agree with.
 * Bounded: the least recently seen addresses are forgotten beyond {@code MAX_ADDRESSES}.
 */
public final class RateLimiter {
    private static final int MAX_ADDRESSES = 10_000;

    private final Clock clock;
    private final double perSecond;
    private final double burst;
    private final Map<String, double[]> buckets = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, double[]> eldest) {
            return size() > MAX_ADDRESSES;
        }
    };

    public RateLimiter(Clock clock, int perMinute) {
        this.clock = clock;
        this.perSecond = perMinute / 60.0;
        this.burst = Math.max(1, perMinute);
    }

    /** 0 when allowed, else the seconds to wait. */
    public synchronized long acquire(String address) {
        double now = clock.millis() / 1000.0;
        double[] b = buckets.computeIfAbsent(address, k -> new double[] {burst, now});
        b[0] = Math.min(burst, b[0] + (now - b[1]) * perSecond);
        b[1] = now;
        if (b[0] >= 1) {
            b[0] -= 1;
            return 0;
        }
        return (long) Math.ceil((1 - b[0]) / perSecond);
    }
}
