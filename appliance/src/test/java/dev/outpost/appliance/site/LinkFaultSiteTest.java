package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.LinkFaults.https;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.appliance.admin.AdminClient;
import dev.outpost.appliance.cli.ApplianceCli;
import dev.outpost.appliance.store.OutboxStore;
import dev.outpost.testkit.CliRun;
import dev.outpost.testkit.FaultProxy;
import dev.outpost.testkit.Postgres;

/**
 * The outbox against a real central through a link the test breaks ({@link FaultProxy}), issue 14: down, stalled,
 * half-open both ways, and two central instances on one PostgreSQL with one of them gone. Whatever happened on the
 * way, central ends up with every event of the site exactly once, as the site wrote it.
 */
class LinkFaultSiteTest {

    @Test
    void theOutboxDrainsOnceThroughADownStalledAndHalfOpenLink(@TempDir Path dir) throws Exception {
        try (CentralLinkSiteTest.Central central = CentralLinkSiteTest.Central.start(dir.resolve("central"),
                SiteHarness.TRUST_DOMAIN, 0);
                FaultProxy link = FaultProxy.to(central.app().sitePort())) {
            String token = central.services().admin.add("test-site", null, Duration.ofHours(1)).token();
            Path root = central.rootPem(dir.resolve("central-root.pem"));
            try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                    .caConfig("  mode: nested")
                    .extraConfig(LinkFaults.upstream(root, token, Duration.ofSeconds(3), 40, https(link.port())))) {
                site.startAppliance();
                OutboxStore outbox = site.appliance().outbox().store();
                LinkFaults.drained(site, Duration.ofSeconds(30));

                int round = 0;
                for (Runnable fault : new Runnable[] {link::down, link::stall, link::dropResponses, () -> link.cutAfter(1500)}) {
                    LinkFaults.backlog(outbox, 100, "round " + round++);
                    fault.run();
                    site.appliance().outbox().sendNow();
                    assertThat(outbox.backlog().rows()).as("nothing acknowledged through a broken link (%s)", link.mode())
                            .isPositive();
                    if (link.mode() == FaultProxy.Mode.DROP_RESPONSES) {
                        // Central took the batch and answered; the answer was lost: central holds more than the site
                        // knows, and the resend below must not double it.
                        long held = central.services().fleet.contacts().get(0).ackedThrough();
                        assertThat(held).isGreaterThan(outbox.backlog().ackedThrough());
                    }
                    link.pass();
                    LinkFaults.drained(site, Duration.ofSeconds(30));
                }
                LinkFaults.exactlyOnce(outbox, LinkFaults.centralEvents(central.services()));
                assertThat(LinkFaults.centralEvents(central.services()).stream().filter(e -> e[1].equals("operator")))
                        .hasSize(400);
            }
        }
    }

    @Test
    void aBatchTooBigForTheLinkIsHalvedUntilItCrosses(@TempDir Path dir) throws Exception {
        try (CentralLinkSiteTest.Central central = CentralLinkSiteTest.Central.start(dir.resolve("central"),
                SiteHarness.TRUST_DOMAIN, 0);
                FaultProxy link = FaultProxy.to(central.app().sitePort())) {
            String token = central.services().admin.add("test-site", null, Duration.ofHours(1)).token();
            Path root = central.rootPem(dir.resolve("central-root.pem"));
            try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                    .caConfig("  mode: nested")
                    .extraConfig(LinkFaults.upstream(root, token, Duration.ofSeconds(3), 500, https(link.port())))) {
                site.startAppliance();
                OutboxStore outbox = site.appliance().outbox().store();
                LinkFaults.drained(site, Duration.ofSeconds(30));
                link.down();
                LinkFaults.backlog(outbox, 500, "big");
                // 500 rows are ~100 KB on the wire: 5 s at 20 KB/s, over the 3 s deadline; 125 rows fit.
                link.slow(20_000, Duration.ZERO);
                LinkFaults.drained(site, Duration.ofSeconds(45));
                AdminClient admin = new AdminClient(site.adminSocket());
                var status = LinkFaults.JSON.readTree(admin.get("/v1/status").body()).path("outbox");
                assertThat(status.path("batchTimeouts").asLong()).as("the 500-row batch timed out").isPositive();
                assertThat(status.path("batchRowsNow").asInt()).isBetween(1, 500);
                LinkFaults.exactlyOnce(outbox, LinkFaults.centralEvents(central.services()));
            }
        }
    }

    @Test
    void twoCentralsOnOnePostgresOneKilledTheSiteFailsOver(@TempDir Path dir) throws Exception {
        assumeTrue(Postgres.binaries().isPresent(), "PostgreSQL server binaries are not installed");
        try (Postgres pg = Postgres.start()) {
            String db = pg.newDatabase();
            LinkFaults.PgCentral a = LinkFaults.PgCentral.start(dir.resolve("a"), db, 0);
            LinkFaults.PgCentral.copyCa(dir.resolve("a"), dir.resolve("b"));
            try (LinkFaults.PgCentral b = LinkFaults.PgCentral.start(dir.resolve("b"), db, 0)) {
                String token = a.services().admin.add("test-site", null, Duration.ofHours(1)).token();
                Path root = a.rootPem(dir.resolve("central-root.pem"));
                try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                        .caConfig("  mode: nested")
                        .extraConfig(LinkFaults.upstream(root, token, Duration.ofSeconds(5), 50,
                                https(a.app().sitePort()), https(b.app().sitePort())))) {
                    site.startAppliance();
                    OutboxStore outbox = site.appliance().outbox().store();
                    LinkFaults.backlog(outbox, 300, "before");
                    LinkFaults.drained(site, Duration.ofSeconds(30));
                    AdminClient admin = new AdminClient(site.adminSocket());
                    assertThat(LinkFaults.JSON.readTree(admin.get("/v1/status").body()).path("outbox").path("upstream")
                            .path("address").asText()).isEqualTo(https(a.app().sitePort()));

                    // The first instance dies with a backlog queued: the site goes on with the second.
                    LinkFaults.backlog(outbox, 300, "after");
                    a.close();
                    LinkFaults.drained(site, Duration.ofSeconds(30));
                    var status = LinkFaults.JSON.readTree(admin.get("/v1/status").body()).path("outbox").path("upstream");
                    assertThat(status.path("address").asText()).isEqualTo(https(b.app().sitePort()));
                    assertThat(status.path("failovers").asLong()).isPositive();
                    LinkFaults.exactlyOnce(outbox, LinkFaults.centralEvents(b.services()));
                    // What the operator sees: `outpost-appliance status` and the metrics name the address in use.
                    CliRun cli = CliRun.run(ApplianceCli::commandLine, "status", "--socket", site.adminSocket().toString());
                    assertThat(cli.exitCode()).as(cli.err()).isZero();
                    assertThat(cli.out()).contains("central:       " + https(b.app().sitePort()) + " (2 of 2 configured");
                    String metrics = new Monitoring(site.appliance().metricsPort()).scrape();
                    assertThat(metrics).contains("outpost_upstream_address_active{url=\"" + https(b.app().sitePort())
                            + "\",} 1.0", "outpost_upstream_address_active{url=\"" + https(a.app().sitePort()) + "\",} 0.0",
                            "outpost_upstream_failovers_total ");
                }
            } finally {
                a.close();
            }
        }
    }
}
