package dev.outpost.bench.load;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.appliance.ca.TrustBundle;
import dev.outpost.testkit.Mosquitto;
import dev.outpost.tpm.keys.Pem;

/** {@code --broker mosquitto}: the site broker between devices and the appliance (in external broker mode). */
final class SiteBroker {
    private SiteBroker() {
    }

    /**
     * The site broker with the shipped Mosquitto configuration; the site CA is made first (as an installer would),
     * so the broker can trust SVIDs and present a certificate devices trust.
     */
    static Mosquitto start(Path work) throws Exception {
        SiteCa ca = SiteCa.loadOrCreate(work.resolve("data/ca"), "load.test", "load-site", Duration.ofDays(365),
                Clock.systemUTC());
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair server = g.generateKeyPair();
        Files.writeString(work.resolve("bundle.pem"), TrustBundle.of(ca).pem());
        Files.writeString(work.resolve("broker.pem"), Pem.certificate(ca.issueServerCertificate(server.getPublic(),
                List.of("localhost", "127.0.0.1"), Duration.ofDays(1))));
        Files.writeString(work.resolve("broker.key"), Pem.encode("PRIVATE KEY", server.getPrivate().getEncoded()));
        return Mosquitto.start(work.resolve("mosquitto"), work.resolve("bundle.pem"), work.resolve("broker.pem"),
                work.resolve("broker.key"));
    }
}
