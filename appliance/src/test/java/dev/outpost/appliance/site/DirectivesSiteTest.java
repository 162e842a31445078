package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.appliance.admin.AdminClient;
import dev.outpost.appliance.cli.ApplianceCli;
import dev.outpost.appliance.directives.DirectiveFollower;
import dev.outpost.central.directives.DirectiveAdmin;
import dev.outpost.sim.BootProfile;
import dev.outpost.sim.GoodPolicies;
import dev.outpost.sim.SimulatedKernel;
import dev.outpost.testkit.CliRun;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;

/**
 * Central's directives reaching a real nested site (real central, real appliance, real swtpm devices, one JVM): a
 * runtime policy central pushes and assigns to a label judges the device labelled so at the site; a fleet-wide ban
 * revokes and disconnects a known device and keeps an EK never seen from enrolling; a site that was down while
 * central decided twice gets both, in order, when it is back; a central that is down changes nothing at the site.
 */
@ExtendWith(SwtpmExtension.class)
class DirectivesSiteTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void centralsPoliciesAndBansReachTheSiteInOrder(Swtpm gateway, Swtpm device, Swtpm stranger, @TempDir Path dir)
            throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(device::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        byte[] runtime = GoodPolicies.runtimePolicyJson(kernel);

        CentralLinkSiteTest.Central central = CentralLinkSiteTest.Central.start(dir.resolve("central"),
                SiteHarness.TRUST_DOMAIN, 0);
        try {
            central.services().admin.add("test-site", CentralLinkSiteTest.gatewayEkHash(gateway), null);
            Path root = central.rootPem(dir.resolve("central-root.pem"));
            DirectiveAdmin fleet = new DirectiveAdmin(central.services().db, central.services().clock);
            try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                    .attestEvery(Duration.ofSeconds(2), Duration.ofSeconds(60))
                    .caConfig("  mode: nested")
                    .agentBundle(root)
                    .extraConfig(SiteHarness.upstreamByTpm(central.app().sitePort(), root, gateway))) {
                site.trustSwtpmManufacturer();
                site.startAppliance();
                String socket = site.adminSocket().toString();

                // The device enrolls with no policy at the site: it is held pending. The site operator labels it.
                AgentConfig config = site.agentConfig(device, "agent", "rsa2048", "rsa", dir.resolve("securityfs"));
                SiteHarness.Running agent = site.startAgent(config);
                await("connected", Duration.ofSeconds(60), () -> "connected".equals(agent.daemon().status()));
                String spiffeId = SiteHarness.identity(config).spiffeId();
                String id = spiffeId.substring(spiffeId.lastIndexOf('/') + 1);
                assertThat(cli("device", "label", id, "line-1", "--socket", socket).exitCode()).isZero();
                await("pending without a policy", Duration.ofSeconds(30),
                        () -> "pending".equals(SiteAttestationTest.state(site, id)));

                // Central pushes a runtime policy and assigns it to the label: the site stores it and judges by it.
                long put = fleet.push("fleet-runtime", "runtime", runtime, "test").version();
                long assign = fleet.assign("fleet-runtime", "line-1", "test").version();
                DirectiveFollower follower = site.appliance().directiveFollower().orElseThrow();
                follower.poll();
                assertThat(follower.status().applied()).isEqualTo(assign);
                CliRun listed = cli("policy", "list", "--socket", socket);
                assertThat(listed.out()).contains("fleet-runtime").contains("central (" + put + ")");
                await("trusted by central's policy", Duration.ofSeconds(60),
                        () -> "trusted".equals(SiteAttestationTest.state(site, id)));
                assertThat(audit(site, null)).contains("runtime policy fleet-runtime stored from central")
                        .contains("central directive " + put)
                        .contains("policy fleet-runtime assigned to label line-1 by central");

                // A fleet-wide ban: the known device is revoked at once and disconnected, the same way an operator's
                // revoke does it; an EK never seen here is refused at enrollment.
                String strangerId = CentralLinkSiteTest.gatewayEkHash(stranger);
                fleet.ban(id, "stolen at the depot", "test");
                long banStranger = fleet.ban(strangerId, "cloned TPM", "test").version();
                follower.poll();
                assertThat(follower.status().applied()).isEqualTo(banStranger);
                await("disconnected", Duration.ofSeconds(30), () -> !"connected".equals(agent.daemon().status()));
                JsonNode shown = JSON.readTree(cli("device", "show", id, "--json", "--socket", socket).out());
                assertThat(shown.path("state").asText()).isEqualTo("revoked");
                assertThat(shown.path("revokeReason").asText()).contains("banned fleet-wide by central: stolen at the depot");
                Thread.sleep(3000);
                assertThat(agent.daemon().status()).isNotEqualTo("connected");
                SiteHarness.stopAgent(agent);

                AgentConfig strangerConfig = site.agentConfig(stranger, "stranger", "rsa2048", "rsa");
                SiteHarness.Running strangerAgent = site.startAgent(strangerConfig);
                await("the banned EK refused", Duration.ofSeconds(60),
                        () -> audit(site, strangerId).contains("EK banned fleet-wide by central: cloned TPM"));
                assertThat(SiteAttestationTest.state(site, strangerId)).isNotEqualTo("trusted");
                assertThat(strangerAgent.daemon().status()).isNotEqualTo("connected");
                SiteHarness.stopAgent(strangerAgent);

                // The site is down while central decides twice; back, it gets both, in order (the assignment needs
                // the policy stored first), and its applied version survived the restart.
                site.stopAppliance();
                long offlinePut = fleet.push("fleet-runtime-2", "runtime", runtime, "test").version();
                long offlineAssign = fleet.assign("fleet-runtime-2", "line-2", "test").version();
                site.startAppliance();
                DirectiveFollower again = site.appliance().directiveFollower().orElseThrow();
                await("caught up after the restart", Duration.ofSeconds(30),
                        () -> again.status().applied() == offlineAssign);
                String trail = audit(site, null);
                assertThat(trail).contains("central directive " + offlinePut)
                        .contains("policy fleet-runtime-2 assigned to label line-2 by central")
                        .doesNotContain("no such policy");
                assertThat(cli("policy", "list", "--socket", site.adminSocket().toString()).out()).contains("fleet-runtime-2");
                String metrics = new Monitoring(site.appliance().metricsPort()).scrape();
                assertThat(metrics).contains("outpost_directives_applied_version " + offlineAssign + ".0")
                        .contains("outpost_directives_latest_version " + offlineAssign + ".0")
                        .contains("outpost_directives_failing 0.0");
                // Each directive once: one audit row per version.
                assertThat(trail.split("central directive " + offlinePut + "\"", -1)).hasSize(2);

                // Central unreachable: the site says so, changes nothing, and goes on from there once central is back.
                int sitePort = central.app().sitePort();
                central.close();
                assertThat(again.poll()).isZero();
                assertThat(again.status().lastError()).isNotNull();
                assertThat(again.status().applied()).isEqualTo(offlineAssign);
                central = CentralLinkSiteTest.Central.start(dir.resolve("central"), SiteHarness.TRUST_DOMAIN, sitePort);
                fleet = new DirectiveAdmin(central.services().db, central.services().clock);
                long deleted = fleet.delete("fleet-runtime-2", "test").version();
                assertThat(again.poll()).isEqualTo(1);
                assertThat(again.status()).isEqualTo(new DirectiveFollower.Status(deleted, deleted, null));
                assertThat(cli("policy", "list", "--socket", site.adminSocket().toString()).out())
                        .doesNotContain("fleet-runtime-2").contains("fleet-runtime");
            }
        } finally {
            central.close();
        }
    }

    private static String audit(SiteHarness site, String device) {
        try {
            return new AdminClient(site.adminSocket()).get("/v1/audit?limit=500" + (device == null ? "" : "&device=" + device))
                    .body();
        } catch (java.io.IOException e) {
            return "";
        }
    }

    private static CliRun cli(String... args) {
        return CliRun.run(ApplianceCli::commandLine, args);
    }
}
