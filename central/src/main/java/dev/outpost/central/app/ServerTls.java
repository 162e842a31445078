package dev.outpost.central.app;

import java.net.InetAddress;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import dev.outpost.central.ca.CentralCa;
import dev.outpost.spiffe.PemIo;
import dev.outpost.tpm.keys.Pem;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;

/**
 * TLS material made at every start: sites and peers trust central's CA (or the bundle), not a server key, so the
 * server keys never persist. Chains include the intermediates up to (not including) the root.
 */
final class ServerTls {
    static final Duration TTL = Duration.ofDays(30);

    private ServerTls() {
    }

    static PemKeyCertOptions siteApi(CentralCa ca, List<String> configuredNames) throws GeneralSecurityException {
        KeyPair kp = newKey();
        List<String> names = new ArrayList<>(List.of("localhost", "127.0.0.1", "::1"));
        try {
            names.add(InetAddress.getLocalHost().getHostName());
        } catch (java.net.UnknownHostException ignored) {
            // reachable by the configured names
        }
        names.addAll(configuredNames);
        return options(ca, ca.issueServerCertificate(kp.getPublic(), names, TTL), kp);
    }

    static PemKeyCertOptions bundleSvid(CentralCa ca) throws GeneralSecurityException {
        KeyPair kp = newKey();
        return options(ca, ca.issueBundleEndpointSvid(kp.getPublic(), TTL), kp);
    }

    static PemTrustOptions roots(CentralCa ca) {
        PemTrustOptions t = new PemTrustOptions();
        for (X509Certificate r : ca.roots()) {
            t.addCertValue(Buffer.buffer(PemIo.encode(List.of(r))));
        }
        return t;
    }

    private static PemKeyCertOptions options(CentralCa ca, X509Certificate leaf, KeyPair kp) {
        List<X509Certificate> chain = new ArrayList<>();
        chain.add(leaf);
        chain.addAll(ca.intermediates());
        return new PemKeyCertOptions().addCertValue(Buffer.buffer(PemIo.encode(chain)))
                .addKeyValue(Buffer.buffer(Pem.encode("PRIVATE KEY", kp.getPrivate().getEncoded())));
    }

    private static KeyPair newKey() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }
}
