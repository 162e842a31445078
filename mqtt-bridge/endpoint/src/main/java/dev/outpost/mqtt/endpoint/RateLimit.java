package dev.outpost.mqtt.endpoint;

import java.time.Duration;

/**
 * A token bucket: at most {@code permits} at once, refilled at {@code permits} per {@code period}.
 */
public record RateLimit(int permits, Duration period) {
    public RateLimit {
        if (permits < 1 || period == null || period.isNegative() || period.isZero()) {
            throw new IllegalArgumentException("rate limit needs at least one permit per positive period");
        }
    }

    public static RateLimit perMinute(int permits) {
        return new RateLimit(permits, Duration.ofMinutes(1));
    }
}
