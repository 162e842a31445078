package dev.outpost.mqtt.protocol.transport;

import java.security.Provider;
import java.security.Security;

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

    /** Its registered name, for APIs that take one ({@code PKIXParameters.setSigProvider}). */
    public static String bouncyCastleName() {
        return BC.getName();
    }
}
