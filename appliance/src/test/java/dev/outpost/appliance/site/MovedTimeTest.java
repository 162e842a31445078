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

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.sim.BootProfile;
import dev.outpost.sim.GoodPolicies;
import dev.outpost.sim.SimulatedKernel;
import dev.outpost.testkit.MutableClock;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;

/**
 * The appliance reads time from the clock it is given: a test moves an hour forward and the appliance acts on it at
 * once (a device goes stale), with nothing slept for that hour. And an SVID lasts {@code ca.svidTtl} from the pass
 * that earned it, however short the freshness window.
 */
@ExtendWith(SwtpmExtension.class)
class MovedTimeTest {

    @Test
    void anHourMovedIsAnHourToTheAppliance(Swtpm swtpm, @TempDir Path dir) throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(swtpm::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));
        MutableClock clock = new MutableClock();
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(2))
                .attestEvery(Duration.ofSeconds(2), Duration.ofHours(1)).withClock(clock)) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            String id = site.trustWithPolicy(swtpm, dir.resolve("runtime.json"));
            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "rsa", dir.resolve("securityfs"));
            SiteHarness.Running agent = site.startAgent(config);
            await("node SVID", Duration.ofSeconds(60), () -> nodeSvid(config));
            Instant passed = Instant.now();
            // The node SVID lasts ca.svidTtl (2 h) from its pass, not the freshness window (1 h).
            assertThat(SiteHarness.identity(config).notAfter()).isAfter(passed.plus(Duration.ofMinutes(110)));
            SiteHarness.stopAgent(agent);
            assertThat(SiteAttestationTest.state(site, id)).isEqualTo("trusted");

            clock.advance(Duration.ofHours(1).plusSeconds(1));
            // The stale sweep runs every 10 s of wall time here; it judges by the appliance's clock.
            await("stale an hour later", Duration.ofSeconds(30), () -> "stale".equals(SiteAttestationTest.state(site, id)));
        }
    }

    private static boolean nodeSvid(AgentConfig config) {
        try {
            return SiteHarness.identity(config) != null && SiteHarness.identity(config).spiffeId().contains("/agent/tpm/");
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
