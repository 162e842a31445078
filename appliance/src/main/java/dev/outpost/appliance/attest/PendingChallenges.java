package dev.outpost.appliance.attest;

import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import dev.outpost.tpm.wire.PcrSelection;

/**
 * The one outstanding challenge per device, with the evidence parts received so far. Kept in memory on
 * purpose: after an appliance restart a device simply asks again, and a nonce that never touched disk cannot
 * be replayed from a copy of it.
 * <p>
 * Buffered evidence is bounded per device (by the caller) and here in total: devices that send parts and then go
 * quiet, or many devices sending whole lists at once after a power cut, must never run the heap out. Expired
 * challenges are dropped by {@link #purgeExpired}, which the appliance calls on a timer, not only when another
 * device happens to ask for a challenge.
 */
final class PendingChallenges {
    /** An issued challenge and what has arrived for it. */
    static final class Pending {
        final byte[] nonce;
        final PcrSelection selection;
        final long imaOffset;
        final boolean wantBootLog;
        final Instant expiresAt;
        ByteArrayOutputStream ima = new ByteArrayOutputStream();
        ByteArrayOutputStream boot = new ByteArrayOutputStream();
        int nextPart;
        // What this challenge holds of the global budget; released exactly once when it leaves the map.
        private long reserved;
        private boolean released;

        Pending(byte[] nonce, PcrSelection selection, long imaOffset, boolean wantBootLog, Instant expiresAt) {
            this.nonce = nonce;
            this.selection = selection;
            this.imaOffset = imaOffset;
            this.wantBootLog = wantBootLog;
            this.expiresAt = expiresAt;
        }

        long bytes() {
            return (long) ima.size() + boot.size();
        }
    }

    private final Map<String, Pending> byDevice = new ConcurrentHashMap<>();
    private final AtomicLong buffered = new AtomicLong();
    private final long maxBufferedBytes;

    PendingChallenges(long maxBufferedBytes) {
        this.maxBufferedBytes = maxBufferedBytes;
    }

    /** Issues a challenge, replacing any earlier one of the device (its nonce and buffered parts die with it). */
    void put(String deviceId, Pending p) {
        Pending old = byDevice.put(deviceId, p);
        if (old != null) {
            release(old);
        }
    }

    /**
     * The device's pending challenge if {@code nonce} is its nonce (constant-time), else null. A nonce issued to
     * another device never matches: the map is keyed by the device the connection or topic proved.
     */
    Pending match(String deviceId, byte[] nonce) {
        Pending p = byDevice.get(deviceId);
        return p != null && MessageDigest.isEqual(p.nonce, nonce) ? p : null;
    }

    /**
     * Takes {@code bytes} more of the global budget for {@code p}; false (and nothing taken) when that would go over
     * it. Call while holding {@code p}'s lock, before buffering the bytes.
     */
    boolean reserve(Pending p, long bytes) {
        if (p.released) {
            return false;
        }
        long now = buffered.addAndGet(bytes);
        if (now > maxBufferedBytes) {
            buffered.addAndGet(-bytes);
            return false;
        }
        p.reserved += bytes;
        return true;
    }

    /** Removes the challenge: a nonce is used once, whatever the verdict. Its buffered bytes leave the budget. */
    void consume(String deviceId, Pending p) {
        if (byDevice.remove(deviceId, p)) {
            release(p);
        }
    }

    /**
     * Frees what challenges past their expiry buffered; returns how many it freed. The challenge itself stays for
     * {@code tombstone} more, buffer-less, so a device that answers late is told its challenge expired rather than
     * that its nonce is unknown.
     */
    int purgeExpired(Instant now, java.time.Duration tombstone) {
        int[] n = {0};
        byDevice.entrySet().removeIf(e -> {
            Pending p = e.getValue();
            if (!now.isAfter(p.expiresAt)) {
                return false;
            }
            synchronized (p) {
                if (!p.released) {
                    release(p);
                    p.ima = new ByteArrayOutputStream(0);
                    p.boot = new ByteArrayOutputStream(0);
                    n[0]++;
                }
            }
            return now.isAfter(p.expiresAt.plus(tombstone));
        });
        return n[0];
    }

    /** Evidence bytes buffered across all devices. */
    long bufferedBytes() {
        return buffered.get();
    }

    long maxBufferedBytes() {
        return maxBufferedBytes;
    }

    private void release(Pending p) {
        synchronized (p) {
            if (!p.released) {
                p.released = true;
                buffered.addAndGet(-p.reserved);
                p.reserved = 0;
            }
        }
    }
}
