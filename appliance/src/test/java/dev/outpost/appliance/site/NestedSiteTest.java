package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.agent.state.AgentState;
import dev.outpost.agent.state.NodeIdentity;
import dev.outpost.appliance.admin.AdminClient;
import dev.outpost.appliance.ca.BcUpstreamCa;
import dev.outpost.appliance.ca.CaRotation;
import dev.outpost.appliance.ca.OpensslCa;
import dev.outpost.appliance.cli.ApplianceCli;
import dev.outpost.sim.BootProfile;
import dev.outpost.sim.GoodPolicies;
import dev.outpost.sim.SimulatedKernel;
import dev.outpost.testkit.CliRun;
import dev.outpost.testkit.ProcessRunner;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;

/**
 * A nested site with real devices: its CA installed by the file flow before the first start (openssl the upstream CA),
 * devices that trust the upstream root alone, SVIDs that openssl verifies against that root; the next CA installed by
 * file while the site runs; and a CA that expired while cut off, recovered by {@code ca install} with no device
 * enrolling again.
 */
@ExtendWith(SwtpmExtension.class)
class NestedSiteTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void fileFlowBeforeFirstStartAndDevicesTrustingTheRootAlone(Swtpm swtpm, @TempDir Path dir) throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(swtpm::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));
        OpensslCa root = OpensslCa.root(dir.resolve("upstream"), "Corp Root");
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                .attestEvery(Duration.ofSeconds(2), Duration.ofSeconds(60))
                .caConfig("  mode: nested").agentBundle(root.pem())) {
            site.trustSwtpmManufacturer();
            String cfg = site.configFile().toString();
            Path csr = dir.resolve("site.csr");
            ok(cli("ca", "csr", "--config", cfg, "--out", csr.toString()));
            Path cert = root.sign(csr, OpensslCa.siteCaExtensions(SiteHarness.TRUST_DOMAIN), 90, dir.resolve("site.pem"));
            ok(cli("ca", "install", "--config", cfg, "--cert", cert.toString(), "--chain", root.pem().toString()));

            site.startAppliance();
            String id = site.trustWithPolicy(swtpm, dir.resolve("runtime.json"));
            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "rsa", dir.resolve("securityfs"));
            site.startAgent(config);
            // The agent trusts root.pem alone: it got this far only because the endpoint's certificate chain carries
            // the site CA.
            await("node SVID", Duration.ofSeconds(60), () -> nodeSvid(config));
            NodeIdentity held = SiteHarness.identity(config);
            assertThat(held.chain()).hasSize(2);
            assertThat(held.bundle()).as("devices are handed the upstream root, not the site CA")
                    .hasSize(1).allMatch(c -> c.getSubjectX500Principal().getName().contains("Corp Root"));

            Path leaf = Files.writeString(dir.resolve("leaf.pem"), dev.outpost.tpm.keys.Pem.certificate(held.leaf()));
            ProcessRunner.Result v = OpensslCa.verify(root.pem(), site.caPem(), leaf);
            assertThat(v.stdout()).as(v.toString()).contains(": OK");

            JsonNode show = JSON.readTree(cli("ca", "show", "--json", "--socket", site.adminSocket().toString()).out());
            assertThat(show.path("mode").asText()).isEqualTo("nested");
            assertThat(show.path("chain")).hasSize(1);
            assertThat(show.path("rotation").path("state").asText()).isEqualTo("none");

            // The next CA by file while the site runs: through the admin socket (the database is in use), stored as
            // next, published, not active yet (90 days left of 90).
            Path nextCsr = dir.resolve("next.csr");
            ok(cli("ca", "csr", "--config", cfg, "--out", nextCsr.toString()));
            Path next = root.sign(nextCsr, OpensslCa.siteCaExtensions(SiteHarness.TRUST_DOMAIN), 90, dir.resolve("next.pem"));
            CliRun installed = cli("ca", "install", "--config", cfg, "--cert", next.toString(), "--chain", root.pem().toString());
            ok(installed);
            assertThat(installed.out()).contains("as the next CA");
            show = JSON.readTree(cli("ca", "show", "--json", "--socket", site.adminSocket().toString()).out());
            assertThat(show.path("rotation").path("state").asText()).isEqualTo("prepared");
            assertThat(show.path("rotation").path("next").path("notAfter").asText()).isNotEmpty();
            // A wrong certificate while running: refused with the reason, nothing changed.
            CliRun wrong = cli("ca", "install", "--config", cfg, "--cert", cert.toString(), "--chain", root.pem().toString());
            assertThat(wrong.exitCode()).isEqualTo(2);
            assertThat(wrong.err()).contains("refused, nothing changed").contains("not for this site's pending CA key");
        }
    }

    @Test
    void anExpiredCaIsRecoveredByInstallWithoutReEnrollment(Swtpm swtpm, @TempDir Path dir) throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(swtpm::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));
        BcUpstreamCa upstream = new BcUpstreamCa("Corp Root");
        Path rootPem = upstream.writeRoot(dir.resolve("root.pem"));
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                .attestEvery(Duration.ofSeconds(2), Duration.ofMinutes(10))
                .caConfig("  mode: nested").agentBundle(rootPem)) {
            site.trustSwtpmManufacturer();
            String cfg = site.configFile().toString();
            Path csr = dir.resolve("site.csr");
            ok(cli("ca", "csr", "--config", cfg, "--out", csr.toString()));
            // A CA cut off too long, compressed: it ends 45 s from now. (TLS validity is the JDK's wall clock, so the
            // expiry has to be real for the devices' handshakes to see it too.)
            Instant end = Instant.now().plusSeconds(45);
            Path cert = Files.writeString(dir.resolve("site.pem"), upstream.sign(Files.readString(csr),
                    SiteHarness.TRUST_DOMAIN, Instant.now().minusSeconds(60), end));
            ok(cli("ca", "install", "--config", cfg, "--cert", cert.toString(), "--chain", rootPem.toString()));

            site.startAppliance();
            String id = site.trustWithPolicy(swtpm, dir.resolve("runtime.json"));
            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "rsa", dir.resolve("securityfs"));
            SiteHarness.Running agent = site.startAgent(config);
            await("trusted", Duration.ofSeconds(40), () -> "trusted".equals(SiteAttestationTest.state(site, id)));

            Monitoring mon = new Monitoring(site.appliance().metricsPort());
            await("ca expired", Duration.ofSeconds(60), () -> {
                try {
                    Monitoring.Ready r = mon.ready();
                    return r.status() == 503 && r.reason("ca") != null && r.reason("ca").startsWith("ca expired");
                } catch (Exception e) {
                    return false;
                }
            });
            site.appliance().caRotation().tick();
            assertThat(site.appliance().caRotation().state()).isEqualTo(CaRotation.State.EXPIRED);
            assertThat(mon.metrics()).containsEntry("outpost_ca_rotation_state{state=\"expired\"}", 1.0);
            assertThat(SiteAttestationTest.state(site, id)).as("the device's state is kept").isNotNull();

            // Recovery through the running appliance: a new key, signed, installed, active at once.
            Path csr2 = dir.resolve("recovery.csr");
            ok(cli("ca", "csr", "--config", cfg, "--out", csr2.toString()));
            Path cert2 = Files.writeString(dir.resolve("recovery.pem"), upstream.sign(Files.readString(csr2),
                    SiteHarness.TRUST_DOMAIN, Instant.now().minusSeconds(60), Instant.now().plus(Duration.ofDays(90))));
            CliRun installed = cli("ca", "install", "--config", cfg, "--cert", cert2.toString(), "--chain", rootPem.toString());
            ok(installed);
            assertThat(installed.out()).contains("active now");
            await("ready again", Duration.ofSeconds(20), () -> {
                try {
                    return mon.ready().status() == 200;
                } catch (Exception e) {
                    return false;
                }
            });

            // The device comes back by itself (its SVID ended with the old CA): a fresh node SVID of the new CA, and
            // it enrolled exactly once.
            Instant recovered = Instant.now();
            await("a node SVID from the new CA", Duration.ofSeconds(120), () -> {
                try {
                    NodeIdentity i = SiteHarness.identity(config);
                    return nodeSvid(config) && i.leaf().getNotAfter().toInstant().isAfter(end.plusSeconds(60));
                } catch (java.io.IOException e) {
                    return false;
                }
            });
            assertThat(SiteAttestationTest.state(site, id)).isEqualTo("trusted");
            String audit = new AdminClient(site.adminSocket()).get("/v1/audit?device=" + id + "&limit=500").body();
            assertThat(count(audit, "activate")).as("enrolled once, never again").isEqualTo(1);
            assertThat(recovered).isAfterOrEqualTo(end.truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
            SiteHarness.stopAgent(agent);
        }
    }

    private static boolean nodeSvid(AgentConfig config) {
        try {
            NodeIdentity i = SiteHarness.identity(config);
            return i != null && i.spiffeId().contains("/agent/tpm/") && i.validAt(Instant.now());
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static long count(String auditJson, String action) throws Exception {
        long n = 0;
        for (JsonNode e : JSON.readTree(auditJson)) {
            if (action.equals(e.path("action").asText()) && "allow".equalsIgnoreCase(e.path("decision").asText())) {
                n++;
            }
        }
        return n;
    }

    private static void ok(CliRun r) {
        assertThat(r.exitCode()).as(r.err()).isZero();
    }

    private static CliRun cli(String... args) {
        return CliRun.run(ApplianceCli::commandLine, args);
    }

    static java.util.List<java.security.cert.X509Certificate> certs(Path p) throws Exception {
        return AgentState.certificates(Files.readString(p));
    }
}
