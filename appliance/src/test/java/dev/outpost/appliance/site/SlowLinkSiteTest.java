package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.LinkFaults.https;
import static dev.outpost.appliance.site.SiteHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.appliance.store.OutboxStore;
import dev.outpost.sim.BootProfile;
import dev.outpost.sim.GoodPolicies;
import dev.outpost.sim.SimulatedKernel;
import dev.outpost.testkit.FaultProxy;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;

/**
 * A satellite link (32 kbit/s, 600 ms one way, through {@link FaultProxy}) under a backlog: the outbox drains steadily
 * and exactly once while a device enrolls and attests at the same time: the sender's own thread holds the slow link,
 * device traffic keeps the appliance's pool. Asserts that both complete, never how fast (BENCHMARKS.md measures).
 */
@ExtendWith(SwtpmExtension.class)
class SlowLinkSiteTest {
    private static final Logger LOG = LoggerFactory.getLogger(SlowLinkSiteTest.class);
    /** 32 kbit/s. */
    static final int SATELLITE_BYTES_PER_SECOND = 4000;
    static final Duration SATELLITE_LATENCY = Duration.ofMillis(600);

    @Test
    void aDeviceAttestsWhileTheBacklogDrainsOverASatelliteLink(Swtpm device, @TempDir Path dir) throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(device::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        kernel.measure("/usr/bin/app", "app v1".getBytes(StandardCharsets.UTF_8));
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));

        try (CentralLinkSiteTest.Central central = CentralLinkSiteTest.Central.start(dir.resolve("central"),
                SiteHarness.TRUST_DOMAIN, 0);
                FaultProxy link = FaultProxy.to(central.app().sitePort())) {
            String token = central.services().admin.add("test-site", null, Duration.ofHours(1)).token();
            Path root = central.rootPem(dir.resolve("central-root.pem"));
            try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                    .attestEvery(Duration.ofSeconds(2), Duration.ofSeconds(60))
                    .caConfig("  mode: nested")
                    .agentBundle(root)
                    .extraConfig(LinkFaults.upstream(root, token, Duration.ofSeconds(15), 100, https(link.port())))) {
                site.trustSwtpmManufacturer();
                site.startAppliance();
                OutboxStore outbox = site.appliance().outbox().store();
                LinkFaults.drained(site, Duration.ofSeconds(30));

                link.slow(SATELLITE_BYTES_PER_SECOND, SATELLITE_LATENCY);
                LinkFaults.backlog(outbox, 250, "satellite");
                long upBefore = link.forwardedUp();
                // The appliance's own sender drains on its schedule from here; meanwhile a device joins the site.
                String id = site.trustWithPolicy(device, dir.resolve("runtime.json"));
                AgentConfig config = site.agentConfig(device, "agent", "rsa2048", "rsa", dir.resolve("securityfs"));
                SiteHarness.Running agent = site.startAgent(config);
                await("device trusted during the drain", Duration.ofSeconds(60),
                        () -> "trusted".equals(SiteAttestationTest.state(site, id)));
                LOG.info("device trusted with {} outbox rows still unsent over the slow link", outbox.backlog().rows());

                await("drained over the slow link", Duration.ofSeconds(60), () -> outbox.backlog().rows() == 0);
                SiteHarness.stopAgent(agent);
                LOG.info("{} bytes crossed the slow link upward", link.forwardedUp() - upBefore);
                LinkFaults.exactlyOnce(outbox, LinkFaults.centralEvents(central.services()));
                assertThat(LinkFaults.centralEvents(central.services()).stream().filter(e -> e[1].equals("device.enrolled")))
                        .hasSize(1);
            }
        }
    }
}
