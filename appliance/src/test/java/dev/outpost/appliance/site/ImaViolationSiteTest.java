package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.appliance.admin.AdminClient;
import dev.outpost.sim.BootProfile;
import dev.outpost.sim.GoodPolicies;
import dev.outpost.sim.SimulatedKernel;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;

/**
 * A device whose kernel logs an IMA violation (ToMToU / open-writers) stays trusted by default, as under Keylime's
 * verifier, and fails when the site asks for that with attestation.failOnImaViolations.
 */
@ExtendWith(SwtpmExtension.class)
class ImaViolationSiteTest {

    @Test
    void aViolationIsCountedByDefault(Swtpm swtpm, @TempDir Path dir) throws Exception {
        assertThat(run(swtpm, dir, false)).isEqualTo("trusted");
    }

    @Test
    void aViolationFailsTheDeviceWhenTheSiteSaysSo(Swtpm swtpm, @TempDir Path dir) throws Exception {
        assertThat(run(swtpm, dir, true)).isEqualTo("failed");
    }

    private static String run(Swtpm swtpm, Path dir, boolean failOnViolations) throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(swtpm::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        kernel.measure("/usr/bin/app", "app".getBytes(StandardCharsets.UTF_8));
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));
        SiteHarness harness = new SiteHarness(dir, "cert", Duration.ofHours(1)).attestEvery(Duration.ofSeconds(1),
                Duration.ofSeconds(60));
        try (SiteHarness site = failOnViolations ? harness.failOnImaViolations() : harness) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            String id = site.trustWithPolicy(swtpm, dir.resolve("runtime.json"));
            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "rsa", dir.resolve("securityfs"));
            SiteHarness.Running agent = site.startAgent(config);
            await("trusted", Duration.ofSeconds(60), () -> "trusted".equals(SiteAttestationTest.state(site, id)));
            // A file the policy does not list, measured while open for writing: only its violation entry is logged.
            kernel.violation("/var/log/not-in-any-policy.log");
            if (failOnViolations) {
                await("failed", Duration.ofSeconds(30), () -> "failed".equals(SiteAttestationTest.state(site, id)));
                assertThat(auditOf(site, id)).contains("ima.validation.tomtou");
            } else {
                // Several attestations at one a second, each covering the violation: the failing run above sees it in
                // the first.
                Thread.sleep(6000);
                assertThat(auditOf(site, id)).doesNotContain("not-in-any-policy");
            }
            SiteHarness.stopAgent(agent);
            return SiteAttestationTest.state(site, id);
        }
    }

    private static String auditOf(SiteHarness site, String id) {
        try {
            return new AdminClient(site.adminSocket()).get("/v1/audit?device=" + id + "&limit=50").body();
        } catch (Exception e) {
            return "";
        }
    }
}
