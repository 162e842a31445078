package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;
import static dev.outpost.appliance.site.SiteHarness.hasIdentity;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.agent.state.NodeIdentity;
import dev.outpost.appliance.cli.ApplianceCli;
import dev.outpost.testkit.CliRun;
import dev.outpost.testkit.ProcessRunner;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.testkit.Tools;
import io.spiffe.bundle.x509bundle.X509Bundle;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import io.spiffe.svid.x509svid.X509SvidValidator;

/** A site end to end: an appliance and three agents on three swtpms (RSA and ECC EKs, RSA and ECC AKs). */
@ExtendWith(SwtpmExtension.class)
class SiteEnrollmentTest {

    @Test
    void threeDevicesEnrollAndTheirSvidsVerify(Swtpm rsa, Swtpm p384, Swtpm rsaEccAk, @TempDir Path dir) throws Exception {
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            String pin = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(dev.outpost.agent.state.AgentState.certificates(Files.readString(site.caPem())).get(0).getEncoded()));
            List<AgentConfig> configs = List.of(
                    site.agentConfigPinned(rsa, "agent-rsa", pin),
                    site.agentConfig(p384, "agent-p384", "p384", "ecc"),
                    site.agentConfig(rsaEccAk, "agent-eccak", "rsa2048", "ecc"));
            configs.forEach(site::startAgent);
            for (AgentConfig c : configs) {
                await(c.stateDir().getFileName() + " enrolled", Duration.ofSeconds(90), () -> hasIdentity(c));
            }
            Path bundle = dir.resolve("bundle.pem");
            Files.writeString(bundle, Files.readString(configs.get(0).stateDir().resolve("bundle.pem")));
            X509Bundle x509Bundle = X509Bundle.load(TrustDomain.parse(SiteHarness.TRUST_DOMAIN), bundle);
            for (AgentConfig c : configs) {
                NodeIdentity id = SiteHarness.identity(c);
                String deviceId = CliRun.run(dev.outpost.agent.cli.AgentCli::commandLine, "status", "--config",
                        dir.resolve(c.stateDir().getFileName() + ".yaml").toString(), "--json").out();
                String expectedDevice = new ObjectMapper().readTree(deviceId).path("deviceId").asText();
                // Enrolled, with no attestation policy yet: the probationary identity, not the node's.
                assertThat(id.spiffeId()).isEqualTo("spiffe://outpost.test/agent/enrolling/" + expectedDevice);

                ProcessRunner.Result v = ProcessRunner.run(List.of(Tools.require("openssl").toString(), "verify",
                        "-CAfile", bundle.toString(), c.stateDir().resolve("svid.pem").toString()), dir, Map.of(), 30);
                assertThat(v.stdout()).as(v.toString()).contains(": OK");

                X509SvidValidator.verifyChain(id.chain(), x509Bundle);
                assertThat(SpiffeId.parse(id.spiffeId()).getTrustDomain().getName()).isEqualTo("outpost.test");
            }

            CliRun list = CliRun.run(ApplianceCli::commandLine, "device", "list", "--json", "--socket",
                    site.adminSocket().toString());
            assertThat(list.exitCode()).as(list.err()).isZero();
            JsonNode devices = new ObjectMapper().readTree(list.out());
            assertThat(devices).hasSize(3);
            for (JsonNode d : devices) {
                // Enrolled. What its first attestation made of it depends on whether it got there yet: these agents
                // have no boot log to send, so it fails them (boot.log.missing), or it holds them pending (no policy).
                // Enrollment with a TPM-held node key (TPM2_Create, Certify, Sign) gives the early ones time to attest.
                assertThat(d.path("state").asText()).isIn("enrolled", "pending", "failed");
            }
            CliRun ca = CliRun.run(ApplianceCli::commandLine, "bundle", "show", "--format", "spiffe", "--socket",
                    site.adminSocket().toString());
            assertThat(new ObjectMapper().readTree(ca.out()).path("keys").get(0).path("use").asText()).isEqualTo("x509-svid");
        }
    }

    @Test
    void aWrongPinnedFingerprintNeverTalksToTheAppliance(Swtpm swtpm, @TempDir Path dir) throws Exception {
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            AgentConfig config = site.agentConfigPinned(swtpm, "agent", "ab".repeat(32));
            SiteHarness.Running agent = site.startAgent(config);
            await("tried", Duration.ofSeconds(30), () -> "enrolling".equals(agent.daemon().status()));
            // Bounded negative window: several attempts happen in it, none may get through.
            Thread.sleep(3000);
            assertThat(SiteHarness.hasIdentity(config)).isFalse();
            CliRun list = CliRun.run(ApplianceCli::commandLine, "device", "list", "--json", "--socket",
                    site.adminSocket().toString());
            assertThat(new ObjectMapper().readTree(list.out())).isEmpty();
        }
    }

    @Test
    void revokedDeviceIsDisconnectedAndKeptOutAndMonitoringAnswers(Swtpm swtpm, @TempDir Path dir) throws Exception {
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "rsa");
            SiteHarness.Running agent = site.startAgent(config);
            await("connected", Duration.ofSeconds(60), () -> "connected".equals(agent.daemon().status()));
            String spiffeId = SiteHarness.identity(config).spiffeId();
            String deviceId = spiffeId.substring(spiffeId.lastIndexOf('/') + 1);

            CliRun revoke = CliRun.run(ApplianceCli::commandLine, "device", "revoke", deviceId, "--reason", "stolen",
                    "--socket", site.adminSocket().toString());
            assertThat(revoke.exitCode()).as(revoke.err()).isZero();
            await("disconnected", Duration.ofSeconds(30), () -> !"connected".equals(agent.daemon().status()));
            // Bounded negative window: the agent retries within a second or two and must stay out.
            Thread.sleep(3000);
            assertThat(agent.daemon().status()).isNotEqualTo("connected");
            CliRun show = CliRun.run(ApplianceCli::commandLine, "device", "show", deviceId, "--json", "--socket",
                    site.adminSocket().toString());
            JsonNode d = new ObjectMapper().readTree(show.out());
            assertThat(d.path("state").asText()).isEqualTo("revoked");
            assertThat(d.path("revokeReason").asText()).isEqualTo("stolen");

            Monitoring monitoring = new Monitoring(site.appliance().metricsPort());
            assertThat(monitoring.ready().status()).isEqualTo(200);
            assertThat(monitoring.scrape()).contains("vertx_");
        }
    }
}
