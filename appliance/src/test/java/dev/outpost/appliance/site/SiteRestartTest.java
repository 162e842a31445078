package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;
import static dev.outpost.appliance.site.SiteHarness.hasIdentity;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.appliance.admin.AdminClient;
import dev.outpost.sim.BootProfile;
import dev.outpost.sim.GoodPolicies;
import dev.outpost.sim.SimulatedKernel;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;

/** Nothing is lost across restarts: of the appliance (also after kill -9), of an agent; a wiped agent re-enrolls. */
@ExtendWith(SwtpmExtension.class)
class SiteRestartTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void applianceAndAgentRestartsKeepIdentityAndRenewalNeedsNoReEnrollment(Swtpm swtpm, @TempDir Path dir)
            throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(swtpm::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        kernel.measure("/usr/bin/outpost-agent", "agent".getBytes(StandardCharsets.UTF_8));
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofMinutes(1))
                .attestEvery(Duration.ofSeconds(4), Duration.ofSeconds(20))) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            String deviceId = site.trustWithPolicy(swtpm, dir.resolve("runtime.json"));
            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "ecc", dir.resolve("securityfs"));
            SiteHarness.Running agent = site.startAgent(config);
            await("trusted", Duration.ofSeconds(60), () -> "trusted".equals(agent.daemon().verdict()));
            BigInteger first = serial(config);
            byte[] caBefore = Files.readAllBytes(site.caPem());

            site.stopAppliance();
            site.startAppliance();
            assertThat(Files.readAllBytes(site.caPem())).isEqualTo(caBefore);
            await("reconnected", Duration.ofSeconds(60), () -> "connected".equals(agent.daemon().status()));
            assertThat(device(site, deviceId).path("state").asText()).isIn("trusted", "pending");

            // The SVID lasts ca.svidTtl (1 min here); the agent renews it through a passing attestation
            // after half of it, over mTLS, without enrolling again, and the IMA state survived the restart.
            await("renewed", Duration.ofSeconds(60), () -> !first.equals(serialOrNull(config)));
            assertThat(activations(site, deviceId)).isEqualTo(1);
            kernel.measure("/usr/bin/outpost-agent", "agent".getBytes(StandardCharsets.UTF_8));
            await("trusted after restart", Duration.ofSeconds(30), () -> "trusted".equals(state(site, deviceId)));

            SiteHarness.stopAgent(agent);
            BigInteger kept = serial(config);
            SiteHarness.Running again = site.startAgent(config);
            await("agent back", Duration.ofSeconds(60), () -> "trusted".equals(again.daemon().verdict()));
            assertThat(activations(site, deviceId)).isEqualTo(1);
            assertThat(serialOrNull(config)).isNotNull();

            // A reboot of the device: the appliance sees the TPM's resetCount rise, asks for the whole IMA list and
            // the boot log again, and the device is trusted again without re-enrolling.
            SiteHarness.stopAgent(again);
            kernel.reboot(swtpm::reboot);
            kernel.measure("/usr/bin/outpost-agent", "agent".getBytes(StandardCharsets.UTF_8));
            SiteHarness.Running rebooted = site.startAgent(config);
            await("trusted after reboot", Duration.ofSeconds(60), () -> "trusted".equals(rebooted.daemon().verdict()));
            assertThat(activations(site, deviceId)).isEqualTo(1);
            assertThat(kept).isNotNull();

            SiteHarness.stopAgent(rebooted);
            wipe(config.stateDir());
            SiteHarness.Running fresh = site.startAgent(config);
            await("re-enrolled", Duration.ofSeconds(60), () -> hasIdentity(config));
            await("connected", Duration.ofSeconds(60), () -> "connected".equals(fresh.daemon().status()));
            assertThat(deviceId(config)).isEqualTo(deviceId);
            assertThat(activations(site, deviceId)).isEqualTo(2);
        }
    }

    private static String state(SiteHarness site, String id) {
        return SiteAttestationTest.state(site, id);
    }

    @Test
    void applianceKilledWithSigkillLosesNothing(Swtpm swtpm, @TempDir Path dir) throws Exception {
        // A booted device: on a loaded box its first attestation can land before the kill, and a device that sends
        // no boot log when asked fails (rightly), which is not what this test is about.
        new SimulatedKernel(swtpm::uri, dir.resolve("securityfs")).boot(BootProfile.defaults());
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))) {
            site.trustSwtpmManufacturer();
            site.startApplianceProcess();
            AgentConfig config = site.agentConfig(swtpm, "agent", "p384", "rsa", dir.resolve("securityfs"));
            SiteHarness.Running agent = site.startAgent(config);
            await("enrolled", Duration.ofSeconds(60), () -> hasIdentity(config));
            await("connected", Duration.ofSeconds(60), () -> "connected".equals(agent.daemon().status()));
            String deviceId = deviceId(config);

            site.killApplianceProcess();
            site.startApplianceProcess();
            assertThat(device(site, deviceId).path("state").asText()).isIn("enrolled", "pending");
            assertThat(device(site, deviceId).path("svidSerial").asText())
                    .isEqualTo(serial(config).toString(16));
            await("reconnected", Duration.ofSeconds(60), () -> "connected".equals(agent.daemon().status()));
            assertThat(activations(site, deviceId)).isEqualTo(1);
        }
    }

    private static String deviceId(AgentConfig c) throws IOException {
        String uri = SiteHarness.identity(c).spiffeId();
        return uri.substring(uri.lastIndexOf('/') + 1);
    }

    private static BigInteger serial(AgentConfig c) throws IOException {
        return SiteHarness.identity(c).leaf().getSerialNumber();
    }

    private static BigInteger serialOrNull(AgentConfig c) {
        try {
            return serial(c);
        } catch (IOException | NullPointerException e) {
            return null;
        }
    }

    private static JsonNode device(SiteHarness site, String id) throws IOException {
        AdminClient.Reply r = new AdminClient(site.adminSocket()).get("/v1/devices/" + id);
        assertThat(r.ok()).as(r.body()).isTrue();
        return JSON.readTree(r.body());
    }

    /** How many times the device completed credential activation, from the audit trail. */
    private static long activations(SiteHarness site, String id) throws IOException {
        AdminClient.Reply r = new AdminClient(site.adminSocket()).get("/v1/audit?device=" + id + "&limit=1000");
        long n = 0;
        for (JsonNode e : JSON.readTree(r.body())) {
            if ("activate".equals(e.path("action").asText()) && "ALLOW".equalsIgnoreCase(e.path("decision").asText())) {
                n++;
            }
        }
        return n;
    }

    private static void wipe(Path dir) throws IOException {
        try (Stream<Path> w = Files.walk(dir)) {
            w.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
