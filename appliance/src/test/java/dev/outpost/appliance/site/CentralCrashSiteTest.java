package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.LinkFaults.https;
import static dev.outpost.appliance.site.SiteHarness.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.appliance.store.OutboxStore;
import dev.outpost.central.app.Services;
import dev.outpost.testkit.Postgres;

/**
 * Central's side dying under a draining site (issue 14): central killed with SIGKILL in the middle of the batches
 * (it runs as its own process, {@code outpost-central run}) and started again; PostgreSQL restarted under a running
 * central, which must get its connection pool back by itself. Central ends with every event of the site once.
 */
class CentralCrashSiteTest {
    private static final int EVENTS = 600;

    @Test
    void centralKilledMidBatchAndRestartedLosesNothingAndDoublesNothing(@TempDir Path dir) throws Exception {
        assumeTrue(Postgres.binaries().isPresent(), "PostgreSQL server binaries are not installed");
        try (Postgres pg = Postgres.start()) {
            String db = pg.newDatabase();
            int port = freePort();
            Path data = dir.resolve("central");
            String token;
            Path root;
            // The central team registers the site (CLI-equivalent, in this JVM), then central runs as a process.
            try (Services s = Services.open(LinkFaults.PgCentral.config(data, db, port), java.time.Clock.systemUTC())) {
                token = s.admin.add("test-site", null, Duration.ofHours(1)).token();
                root = Files.writeString(dir.resolve("central-root.pem"), CentralLinkSiteTest.chainPem(s.ca.roots()));
            }
            Path yaml = Files.writeString(dir.resolve("central.yaml"), String.join("\n",
                    "trustDomain: " + SiteHarness.TRUST_DOMAIN,
                    "dataDir: " + data,
                    "server: {host: 127.0.0.1, port: " + port + "}",
                    "bundleEndpoint: {host: 127.0.0.1, port: 0}", "monitoring: {host: 127.0.0.1, port: 0}",
                    "database: {url: '" + db + "', user: " + Postgres.USER + "}", ""));
            Process central = startCentral(dir, yaml, port);
            try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                    .caConfig("  mode: nested")
                    .extraConfig(LinkFaults.upstream(root, token, Duration.ofSeconds(5), 10, https(port)))) {
                site.startAppliance();
                OutboxStore outbox = site.appliance().outbox().store();
                LinkFaults.backlog(outbox, EVENTS, "crash");
                // The appliance's own sender drains on its schedule; SIGKILL lands while batches are going.
                await("draining", Duration.ofSeconds(30), () -> acked(db) > 0);
                central.destroyForcibly().waitFor();
                long atKill = acked(db);
                assertThat(atKill).as("killed mid-drain").isLessThan(outbox.backlog().lastSeq());

                central = startCentral(dir, yaml, port);
                LinkFaults.drained(site, Duration.ofSeconds(40));
                try (Connection c = DriverManager.getConnection(db, Postgres.USER, "")) {
                    LinkFaults.exactlyOnce(outbox, LinkFaults.centralEvents(c));
                }
            } finally {
                central.destroyForcibly().waitFor();
            }
        }
    }

    @Test
    void postgresRestartedUnderARunningCentral(@TempDir Path dir) throws Exception {
        assumeTrue(Postgres.binaries().isPresent(), "PostgreSQL server binaries are not installed");
        try (Postgres pg = Postgres.start()) {
            String db = pg.newDatabase();
            try (LinkFaults.PgCentral central = LinkFaults.PgCentral.start(dir.resolve("central"), db, 0)) {
                String token = central.services().admin.add("test-site", null, Duration.ofHours(1)).token();
                Path root = central.rootPem(dir.resolve("central-root.pem"));
                try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                        .caConfig("  mode: nested")
                        .extraConfig(LinkFaults.upstream(root, token, Duration.ofSeconds(5), 10,
                                https(central.app().sitePort())))) {
                    site.startAppliance();
                    OutboxStore outbox = site.appliance().outbox().store();
                    LinkFaults.backlog(outbox, EVENTS, "restart");
                    await("draining", Duration.ofSeconds(30), () -> acked(db) > 0);
                    // Immediate stop: every pooled connection of central is cut mid-use, like a database crash.
                    pg.restart();
                    LinkFaults.drained(site, Duration.ofSeconds(45));
                    LinkFaults.exactlyOnce(outbox, LinkFaults.centralEvents(central.services()));
                }
            }
        }
    }

    private static long acked(String db) {
        try (Connection c = DriverManager.getConnection(db, Postgres.USER, "");
                PreparedStatement ps = c.prepareStatement("SELECT acked_through FROM sites WHERE name = 'test-site'");
                ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getLong(1) : 0;
        } catch (java.sql.SQLException e) {
            return 0;
        }
    }

    /** {@code outpost-central run} as a child process, the way the service runs; returns once it accepts connections. */
    private static Process startCentral(Path dir, Path yaml, int port) throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.outpost.central.cli.CentralCli", "run",
                "--config", yaml.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("central.log").toFile()))
                .start();
        await("central process up", Duration.ofSeconds(60), () -> {
            if (!p.isAlive()) {
                throw new IllegalStateException("central exited with " + p.exitValue() + ": see " + dir.resolve("central.log"));
            }
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return true;
            } catch (IOException e) {
                return false;
            }
        });
        return p;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
