package dev.outpost.appliance.app;

import java.net.InetAddress;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.tpm.keys.Pem;

/**
 * The MQTT endpoint's TLS certificate, issued by the site CA at every start (devices trust the CA, so the
 * server key never has to persist), naming this host, localhost and loopback.
 */
final class ServerTls {
    private ServerTls() {
    }

    record Material(String certChainPem, String keyPem) {
    }

    static Material issue(SiteCa ca, List<String> extraNames, Duration ttl) throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair kp = g.generateKeyPair();
        List<String> names = new ArrayList<>(List.of("localhost", "127.0.0.1", "::1"));
        try {
            names.add(InetAddress.getLocalHost().getHostName());
        } catch (java.net.UnknownHostException ignored) {
            // a gateway without a resolvable name is still reachable by the names configured
        }
        names.addAll(extraNames);
        var cert = ca.issueServerCertificate(kp.getPublic(), names, ttl);
        StringBuilder chain = new StringBuilder(Pem.certificate(cert));
        for (var c : ca.chain()) {
            chain.append(Pem.certificate(c));
        }
        return new Material(chain.toString(), Pem.encode("PRIVATE KEY", kp.getPrivate().getEncoded()));
    }
}
