package dev.outpost.tpm.trust;

import java.util.Locale;

/** How an EK earns trust: by the allow-list of device ids, by a certificate chain to a manufacturer CA, or both. */
public enum EkTrustMode {
    EITHER, HASH, CERT, BOTH;

    public static EkTrustMode parse(String s) {
        try {
            return valueOf(s.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("EK trust mode '" + s + "': expected either, hash, cert or both");
        }
    }
}
