package dev.outpost.tpm.keys;

import java.security.PublicKey;
import java.util.HexFormat;

import dev.outpost.tpm.HashAlg;

/**
 * A device's identity: lowercase hex SHA-256 of its EK's DER SubjectPublicKeyInfo, the same hash the SPIRE
 * TPM plugin uses, so existing allow-lists carry over.
 */
public final class DeviceId {
    private DeviceId() {
    }

    public static String of(PublicKey ek) {
        return HexFormat.of().formatHex(HashAlg.SHA256.digest(ek.getEncoded()));
    }

    /** True for 64 lowercase hex characters: the only form we accept from the outside. */
    public static boolean isValid(String id) {
        if (id == null || id.length() != 64) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }
}
