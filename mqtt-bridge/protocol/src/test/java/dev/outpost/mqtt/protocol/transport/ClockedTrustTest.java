package dev.outpost.mqtt.protocol.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;


class ClockedTrustTest {

    @TempDir
    Path dir;

    /** A P-256 CA certificate made by openssl, read by the JDK as the appliance reads its bundle. */
    private X509Certificate jdkParsed() throws Exception {
        Path cert = dir.resolve("ca.pem");
        Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=anchor", "-days", "1", "-keyout",
                dir.resolve("ca.key").toString(), "-out", cert.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(out).isZero();
        try (InputStream in = Files.newInputStream(cert)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    @Test
    void anchorsAreTheSignatureProvidersOwnCertificatesSoTheirKeysAreReused() throws Exception {
        X509Certificate root = jdkParsed();
        ClockedTrust trust = ClockedTrust.of(List.of(root), Clock.systemUTC(), Providers.bouncyCastleName());
        X509Certificate anchor = trust.getAcceptedIssuers()[0];
        // The same certificate, as Bouncy Castle's object: its ECDSA keeps a key's precomputed tables on the key
        // object, which this certificate hands out every time (a JDK certificate's key is converted anew per check).
        assertThat(anchor).isEqualTo(root);
        assertThat(anchor.getClass().getName()).startsWith("org.bouncycastle.");
        assertThat(anchor.getPublicKey()).isSameAs(anchor.getPublicKey());
        assertThat(anchor.getPublicKey().getClass().getName()).startsWith("org.bouncycastle.");
    }

    @Test
    void withoutANamedProviderTheAnchorsAreKeptAsGiven() throws Exception {
        X509Certificate root = jdkParsed();
        assertThat(ClockedTrust.of(List.of(root), Clock.systemUTC(), null).getAcceptedIssuers()[0]).isSameAs(root);
    }
}
