package dev.outpost.appliance.store;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;

/**
 * A credential activation waiting for the device's answer. Holds the SHA-256 of the secret, never the secret:
 * a leaked database must not let anyone complete an enrollment.
 */
public record PendingActivation(
        String deviceId,
        byte[] secretHash,
        byte[] ekPublic,
        byte[] ekCertificate,
        byte[] akPublic,
        String ekTemplate,
        Instant createdAt,
        Instant expiresAt,
        int attempts) {

    public PendingActivation {
        Sql.requireHex64(deviceId, "device id");
        if (secretHash == null || secretHash.length != 32) {
            throw new IllegalArgumentException("secretHash must be a 32-byte SHA-256");
        }
        if (!expiresAt.isAfter(createdAt)) {
            throw new IllegalArgumentException("activation must expire after it is created");
        }
    }

    /** A new pending activation for {@code secret}, which is hashed here and not kept. */
    public static PendingActivation of(String deviceId, byte[] secret, byte[] ekPublic, byte[] ekCertificate,
                                       byte[] akPublic, String ekTemplate, Instant createdAt, Instant expiresAt) {
        return new PendingActivation(deviceId, hash(secret), ekPublic, ekCertificate, akPublic, ekTemplate,
                createdAt, expiresAt, 0);
    }

    /** Constant-time comparison of a presented secret against the stored hash. */
    public boolean matches(byte[] presented) {
        return presented != null && MessageDigest.isEqual(hash(presented), secretHash);
    }

    public boolean expired(Instant now) {
        return !now.isBefore(expiresAt);
    }

    public static byte[] hash(byte[] secret) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(secret);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
