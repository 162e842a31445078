package dev.outpost.ima.verify;

import java.security.PublicKey;
import java.security.cert.X509Certificate;

import dev.outpost.ima.policy.PublicKeys;

/**
 * A key as IMA measures it onto a keyring (ima-buf data): an X.509 certificate or a bare SubjectPublicKeyInfo. The
 * key id is the one the kernel gives it, so a certificate's own SubjectKeyIdentifier wins over a computed one.
 */
public record MeasuredKey(byte[] der, PublicKey key, int keyId) {

    /** Null when the bytes are neither a certificate nor a supported public key. */
    public static MeasuredKey parseOrNull(byte[] der) {
        try {
            X509Certificate c = PublicKeys.certificate(der);
            return new MeasuredKey(der.clone(), c.getPublicKey(), KeyIds.keyIdV2(c));
        } catch (RuntimeException notCert) {
            try {
                PublicKey k = PublicKeys.fromSpki(der);
                return new MeasuredKey(der.clone(), k, KeyIds.keyIdV2(k));
            } catch (RuntimeException notKey) {
                return null;
            }
        }
    }
}
