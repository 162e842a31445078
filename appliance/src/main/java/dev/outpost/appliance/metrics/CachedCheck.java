package dev.outpost.appliance.metrics;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * A check that costs something (a database write) run at most once per {@code ttl}, however often monitoring
 * asks; one probe at a time. A probe that has not answered within {@code patience} counts as a failure while it
 * waits, so a hung database reads as not ready rather than as the last good result.
 */
public final class CachedCheck implements Readiness.Check {
    private final Readiness.Check inner;
    private final long ttlNanos;
    private final long patienceNanos;
    private final LongSupplier nanoTime;
    private final ReentrantLock probing = new ReentrantLock();
    private volatile Optional<String> last;
    private volatile long lastAt;
    private volatile long probeStartedAt;

    public CachedCheck(Readiness.Check inner, Duration ttl, Duration patience) {
        this(inner, ttl, patience, System::nanoTime);
    }

    CachedCheck(Readiness.Check inner, Duration ttl, Duration patience, LongSupplier nanoTime) {
        this.inner = inner;
        this.ttlNanos = ttl.toNanos();
        this.patienceNanos = patience.toNanos();
        this.nanoTime = nanoTime;
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public Optional<String> problem() {
        long now = nanoTime.getAsLong();
        Optional<String> cached = last;
        if (cached != null && now - lastAt < ttlNanos) {
            return cached;
        }
        if (!probing.tryLock()) {
            long waited = now - probeStartedAt;
            if (waited > patienceNanos) {
                return Optional.of("no answer for " + Duration.ofNanos(waited).toSeconds() + " s (a probe is waiting)");
            }
            return cached != null ? cached : Optional.of("first probe still running");
        }
        try {
            probeStartedAt = now;
            Optional<String> r;
            try {
                r = inner.problem();
            } catch (RuntimeException e) {
                r = Optional.of("check failed: " + e);
            }
            last = r;
            lastAt = nanoTime.getAsLong();
            return r;
        } finally {
            probing.unlock();
        }
    }
}
