package dev.outpost.agent.run;

import java.security.SecureRandom;
import java.time.Duration;

/**
 * Exponential backoff with full jitter: after a site-wide outage, a thousand agents must not come back in step.
 */
final class Backoff {
    private static final SecureRandom RANDOM = new SecureRandom();
    private final Duration base;
    private final Duration max;
    private int failures;

    Backoff(Duration base, Duration max) {
        this.base = base;
        this.max = max;
    }

    Duration next() {
        long cap = Math.min(max.toMillis(), base.toMillis() << Math.min(failures, 20));
        failures++;
        return Duration.ofMillis(cap / 2 + (long) (RANDOM.nextDouble() * (cap / 2.0)));
    }

    void reset() {
        failures = 0;
    }
}
