package dev.outpost.mqtt.endpoint;

import java.util.concurrent.ThreadLocalRandom;

/**
 * When to tell a refused device to ask again. Spread with jitter, so a thousand devices refused in the same second
 * (a power-restore storm) do not come back in the same second too.
 */
public final class RetryHints {
    private RetryHints() {
    }

    /** Rate limited: the site's shared enrollment capacity refills in seconds, a device's own bucket faster. */
    static long rateLimited(boolean shared) {
        return jitter(shared ? 10_000 : 2_000);
    }

    /** The appliance is busy verifying other devices' evidence. */
    public static long busy() {
        return jitter(5_000);
    }

    // Between the base and twice the base.
    private static long jitter(long baseMs) {
        return baseMs + ThreadLocalRandom.current().nextLong(baseMs + 1);
    }
}
