package dev.outpost.appliance.attest;

import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.outpost.tpm.wire.PcrSelection;

/**
 * The one outstanding challenge per device, with the evidence parts received so far. Kept in memory on
 * purpose: after an appliance restart a device simply asks again, and a nonce that never touched disk cannot
 * be replayed from a copy of it.
 */
final class PendingChallenges {
    /** An issued challenge and what has arrived for it. */
    static final class Pending {
        final byte[] nonce;
        final PcrSelection selection;
        final long imaOffset;
        final boolean wantBootLog;
        final Instant expiresAt;
        final ByteArrayOutputStream ima = new ByteArrayOutputStream();
        final ByteArrayOutputStream boot = new ByteArrayOutputStream();
        int nextPart;

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

    /** Issues a challenge, replacing any earlier one of the device (its nonce dies with it). */
    void put(String deviceId, Pending p) {
        byDevice.put(deviceId, p);
    }

    /**
     * The device's pending challenge if {@code nonce} is its nonce (constant-time), else null. A nonce issued to
     * another device never matches: the map is keyed by the device the connection or topic proved.
     */
    Pending match(String deviceId, byte[] nonce) {
        Pending p = byDevice.get(deviceId);
        return p != null && MessageDigest.isEqual(p.nonce, nonce) ? p : null;
    }

    /** Removes the challenge: a nonce is used once, whatever the verdict. */
    void consume(String deviceId, Pending p) {
        byDevice.remove(deviceId, p);
    }

    void purgeExpired(Instant now) {
        byDevice.values().removeIf(p -> now.isAfter(p.expiresAt));
    }
}
