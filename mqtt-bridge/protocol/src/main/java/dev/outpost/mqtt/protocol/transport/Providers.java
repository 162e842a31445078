package dev.outpost.mqtt.protocol.transport;

import java.io.ByteArrayInputStream;
import java.security.GeneralSecurityException;
import java.security.Provider;
import java.security.Security;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;

import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * Bouncy Castle for P-256, where JDK 17's SunEC is slow: on this project's box a verify takes ~1.0-1.5 ms with
 * SunEC and ~0.2-0.36 ms with Bouncy Castle, a signature 0.6 against 0.3 ms, key generation with ECDH 1.6-1.9
 * against 0.27-0.36 ms. Under load these dominated an enrollment (client certificate, EK certificate chain,
 * MakeCredential, SVID signing). Registered last, so it is used only where asked for by name or instance and
 * changes no default.
 */
public final class Providers {
    private static final Provider BC;

    static {
        Provider p = Security.getProvider(BouncyCastleProvider.PROVIDER_NAME);
        if (p == null) {
            p = new BouncyCastleProvider();
            Security.addProvider(p);
        }
        BC = p;
    }

    private Providers() {
    }

    public static Provider bouncyCastle() {
        return BC;
    }

    /**
     * The certificate as the signature provider's own object, for a trust anchor: Bouncy Castle's certificate keeps
     * its key object, and its ECDSA keeps the precomputed tables of a key's point on that object, so every chain
     * checked against the anchor reuses them (verify ~0.27 ms, against ~0.85 ms with the key of a JDK-parsed
     * certificate, converted anew each time). The certificate unchanged when the provider cannot read it or none
     * is named.
     */
    public static X509Certificate keepsItsKey(X509Certificate c, String provider) {
        if (provider == null) {
            return c;
        }
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509", provider)
                    .generateCertificate(new ByteArrayInputStream(c.getEncoded()));
        } catch (GeneralSecurityException | RuntimeException e) {
            return c;
        }
    }

    /** Its registered name, for APIs that take one ({@code PKIXParameters.setSigProvider}). */
    public static String bouncyCastleName() {
        return BC.getName();
    }
}
