package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.appliance.ca.TrustBundle;
import dev.outpost.testkit.Mosquitto;
import dev.outpost.tpm.keys.Pem;

/**
 * /health/ready over real HTTP against a real appliance: ready when it can work, 503 naming the failed check when
 * its database or its broker is gone, ready again once they are back; /health/live stays 200 throughout.
 */
class ReadinessTest {

    @Test
    void databaseClosedUnderTheApplianceIsNotReadyWithTheReasonAndRecovers(@TempDir Path dir) throws Exception {
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))) {
            site.startAppliance();
            Monitoring mon = new Monitoring(site.appliance().metricsPort());
            Monitoring.Ready up = mon.ready();
            assertThat(up.status()).as(up.body().toString()).isEqualTo(200);
            assertThat(up.body().path("status").asText()).isEqualTo("ready");
            assertThat(names(up.body())).containsExactly("started", "database", "ca", "devices");

            // H2 closes the database on a failed write (a full disk does that); this closes it the same way and
            // puts a directory where its lock file goes, so nothing can open it again until the test allows.
            Path lock = dir.resolve("data/outpost.lock.db");
            closeAndBlock(dir.resolve("data/outpost"), lock);
            await("not ready: database", Duration.ofSeconds(90), () -> reason(mon, "database") != null);
            Monitoring.Ready down = mon.ready();
            assertThat(down.status()).isEqualTo(503);
            assertThat(down.body().path("status").asText()).isEqualTo("not ready");
            assertThat(down.reason("database")).isNotBlank();
            assertThat(down.reason("ca")).as("only the database failed").isNull();
            assertThat(mon.live()).isEqualTo(200);

            Files.delete(lock);
            await("ready again", Duration.ofSeconds(90), () -> status(mon) == 200);
            assertThat(mon.ready().body().path("failed").size()).isZero();
        }
    }

    @Test
    void brokerGoneIsNotReadyWithTheReasonAndRecovers(@TempDir Path dir) throws Exception {
        SiteCa ca = SiteCa.loadOrCreate(dir.resolve("data/ca"), SiteHarness.TRUST_DOMAIN, "test-site",
                Duration.ofDays(365), Clock.systemUTC());
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair server = g.generateKeyPair();
        Files.writeString(dir.resolve("bundle.pem"), TrustBundle.of(ca).pem());
        Files.writeString(dir.resolve("broker.pem"), Pem.certificate(ca.issueServerCertificate(server.getPublic(),
                List.of("localhost", "127.0.0.1"), Duration.ofDays(1))));
        Files.writeString(dir.resolve("broker.key"), Pem.encode("PRIVATE KEY", server.getPrivate().getEncoded()));
        try (Mosquitto broker = Mosquitto.start(dir.resolve("mosquitto"), dir.resolve("bundle.pem"),
                dir.resolve("broker.pem"), dir.resolve("broker.key"));
             SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                     .viaBroker(broker.mtlsUri(), broker.mtlsPort(), broker.enrollPort())) {
            site.startAppliance();
            Monitoring mon = new Monitoring(site.appliance().metricsPort());
            assertThat(mon.ready().status()).as(mon.ready().body().toString()).isEqualTo(200);

            broker.kill();
            await("not ready: broker", Duration.ofSeconds(60), () -> reason(mon, "devices") != null);
            Monitoring.Ready down = mon.ready();
            assertThat(down.status()).isEqualTo(503);
            assertThat(down.reason("devices")).contains("site broker").contains(broker.mtlsUri());
            assertThat(down.reason("database")).isNull();
            assertThat(mon.live()).isEqualTo(200);

            broker.restart();
            // Paho reconnects on its own back-off (1 s doubling to 30 s).
            await("ready again", Duration.ofSeconds(120), () -> status(mon) == 200);
        }
    }

    private static void closeAndBlock(Path database, Path lock) throws Exception {
        for (int attempt = 0; ; attempt++) {
            // The appliance's own URL (its owner-only file system): another URL for the same file is another
            // database to H2, which would find the file locked.
            try (Connection c = DriverManager.getConnection("jdbc:h2:"
                    + dev.outpost.appliance.store.OwnerOnlyFiles.url(database), "outpost", "");
                 Statement s = c.createStatement()) {
                s.execute("SHUTDOWN");
            }
            try {
                Files.createDirectory(lock);
                return;
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // The appliance's pool opened the database again between the two steps: close it again.
                if (attempt > 20) {
                    throw e;
                }
            }
        }
    }

    private static List<String> names(JsonNode body) {
        List<String> out = new java.util.ArrayList<>();
        body.path("checks").forEach(c -> out.add(c.path("name").asText()));
        return out;
    }

    private static String reason(Monitoring mon, String check) {
        try {
            return mon.ready().reason(check);
        } catch (Exception e) {
            return null;
        }
    }

    private static int status(Monitoring mon) {
        try {
            return mon.ready().status();
        } catch (Exception e) {
            return -1;
        }
    }
}
