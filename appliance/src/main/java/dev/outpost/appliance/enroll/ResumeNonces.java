package dev.outpost.appliance.enroll;

import java.security.MessageDigest;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The one outstanding resume nonce per device: in memory, single use, expiring. Separate from attestation
 * challenges, so a client without SVID that asks to resume in a device's name cannot replace the nonce the device
 * is answering over its mTLS connection. Bounded: a device id gets an entry only once the caller checked it is
 * enrolled, and expired entries go whenever the map is touched past its bound.
 */
final class ResumeNonces {
    private static final int MAX = 100_000;

    private record Pending(byte[] nonce, Instant expiresAt) {
    }

    private final Map<String, Pending> byDevice = new ConcurrentHashMap<>();

    void put(String deviceId, byte[] nonce, Instant expiresAt, Instant now) {
        if (byDevice.size() >= MAX) {
            byDevice.values().removeIf(p -> now.isAfter(p.expiresAt()));
        }
        byDevice.put(deviceId, new Pending(nonce.clone(), expiresAt));
    }

    /** The outcome of answering a nonce; the nonce is gone afterwards whatever it was. */
    enum Answer {
        OK, UNKNOWN, EXPIRED
    }

    Answer take(String deviceId, byte[] nonce, Instant now) {
        Pending p = byDevice.remove(deviceId);
        if (p == null || !MessageDigest.isEqual(p.nonce(), nonce)) {
            return Answer.UNKNOWN;
        }
        return now.isAfter(p.expiresAt()) ? Answer.EXPIRED : Answer.OK;
    }
}
