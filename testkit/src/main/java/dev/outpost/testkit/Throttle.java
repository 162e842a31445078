package dev.outpost.testkit;

/**
 * A token bucket in nanoseconds, for {@link FaultProxy}'s slow mode: {@link #reserve} says when {@code bytes} may go
 * out so that the long-run rate stays at {@code bytesPerSecond}. Pure arithmetic over a caller's clock (so it is
 * tested without sleeping); one bucket is shared by every connection of a direction, as on a real narrow link.
 */
public final class Throttle {
    private final long bytesPerSecond;
    /** When the link is free again: everything reserved so far has left by then. */
    private long freeAt = Long.MIN_VALUE;

    public Throttle(long bytesPerSecond) {
        if (bytesPerSecond <= 0) {
            throw new IllegalArgumentException("rate must be positive: " + bytesPerSecond);
        }
        this.bytesPerSecond = bytesPerSecond;
    }

    /**
     * Reserves the link for {@code bytes} at the earliest from {@code nowNanos}; returns the time (same clock) at which
     * their last byte has gone out, i.e. when the caller may write them.
     */
    public synchronized long reserve(long nowNanos, int bytes) {
        long start = Math.max(nowNanos, freeAt == Long.MIN_VALUE ? nowNanos : freeAt);
        freeAt = start + bytes * 1_000_000_000L / bytesPerSecond;
        return freeAt;
    }

    public long bytesPerSecond() {
        return bytesPerSecond;
    }
}
