package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.LinkFaults.https;
import static dev.outpost.appliance.site.SiteHarness.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.appliance.store.OutboxStore;
import dev.outpost.appliance.upstream.SiteApiClient;
import dev.outpost.appliance.upstream.SiteApiMessages;
import dev.outpost.appliance.upstream.SiteCredential;
import dev.outpost.sim.BootProfile;
import dev.outpost.sim.GoodPolicies;
import dev.outpost.sim.SimulatedKernel;
import dev.outpost.testkit.FaultProxy;
import dev.outpost.testkit.Postgres;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;

/**
 * Measurements of the upward link for BENCHMARKS.md (issue 14), not tests: they print figures and assert nothing.
 * They live with the site tests because they drive a real appliance and a real central the way those do (SiteHarness,
 * the in-process central), which the bench module cannot reach. Run:
 * {@code mvn -q -o -pl appliance -am test -Dtest=UpwardLinkBench -Doutpost.bench=true -Dsurefire.failIfNoSpecifiedTests=false}
 * (one method: {@code -Dtest='UpwardLinkBench#ingest*'}); results go to stdout as lines starting with {@code BENCH}.
 */
@EnabledIfSystemProperty(named = "outpost.bench", matches = "true")
@ExtendWith(SwtpmExtension.class)
class UpwardLinkBench {
    private static final int LOOPBACK_EVENTS = Integer.getInteger("outpost.bench.loopbackEvents", 20_000);
    private static final int SLOW_EVENTS = Integer.getInteger("outpost.bench.slowEvents", 400);
    private static final int SITES = Integer.getInteger("outpost.bench.sites", 100);
    private static final int BATCHES_PER_SITE = Integer.getInteger("outpost.bench.batches", 5);
    private static final int EVENTS_PER_BATCH = 100;

    @Test
    void drainRates(@TempDir Path dir) throws Exception {
        try (CentralLinkSiteTest.Central central = CentralLinkSiteTest.Central.start(dir.resolve("central"),
                SiteHarness.TRUST_DOMAIN, 0);
                FaultProxy link = FaultProxy.to(central.app().sitePort())) {
            String token = central.services().admin.add("test-site", null, Duration.ofHours(1)).token();
            Path root = central.rootPem(dir.resolve("central-root.pem"));
            try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                    .caConfig("  mode: nested")
                    .extraConfig(LinkFaults.upstream(root, token, Duration.ofSeconds(30), 500, https(link.port())))) {
                site.startAppliance();
                OutboxStore outbox = site.appliance().outbox().store();
                LinkFaults.drained(site, Duration.ofSeconds(60));

                // The backlog is written with the link down, so the appliance's own sender cannot start early.
                link.down();
                LinkFaults.backlog(outbox, LOOPBACK_EVENTS, "loopback");
                link.pass();
                measure("loopback (relay in pass mode), central on H2", site, link, outbox, LOOPBACK_EVENTS);

                link.down();
                LinkFaults.backlog(outbox, SLOW_EVENTS, "satellite");
                link.slow(SlowLinkSiteTest.SATELLITE_BYTES_PER_SECOND, SlowLinkSiteTest.SATELLITE_LATENCY);
                measure("satellite (32 kbit/s, 600 ms one way), central on H2", site, link, outbox, SLOW_EVENTS);
            }
        }
    }

    private static void measure(String what, SiteHarness site, FaultProxy link, OutboxStore outbox, int events)
            throws Exception {
        long payload = outbox.backlog().bytes();
        long up = link.forwardedUp();
        long t0 = System.nanoTime();
        LinkFaults.drained(site, Duration.ofMinutes(10));
        double s = (System.nanoTime() - t0) / 1e9;
        long wire = link.forwardedUp() - up;
        System.out.printf("BENCH drain %s: %d events (%d payload bytes, %d bytes on the wire up) in %.1f s: %.0f events/s, "
                + "%.0f wire bytes/s; %.0f wire bytes per event%n", what, events, payload, wire, s, events / s, wire / s,
                (double) wire / events);
    }

    @Test
    void ingestFromManySitesOnPostgres(@TempDir Path dir) throws Exception {
        assumeTrue(Postgres.binaries().isPresent(), "PostgreSQL server binaries are not installed");
        try (Postgres pg = Postgres.start();
                LinkFaults.PgCentral central = LinkFaults.PgCentral.start(dir.resolve("central"), pg.newDatabase(), 0)) {
            URI base = URI.create(https(central.app().sitePort()));
            var roots = central.services().ca.roots();
            // Each simulated site joins by token and then speaks with its own credential, as a linked appliance does.
            List<SiteApiClient> sites = new ArrayList<>();
            SiteApiClient anonymous = new SiteApiClient(base, roots, null, null, Duration.ofSeconds(10), Duration.ofSeconds(60));
            for (int i = 0; i < SITES; i++) {
                String name = "site-" + i;
                String token = central.services().admin.add(name, null, Duration.ofHours(1)).token();
                KeyPair key = SiteCredential.newKey();
                SiteApiMessages.Joined joined = SiteApiMessages.joined(anonymous.post("/v1/join/token",
                        SiteApiMessages.joinToken(name, token, SiteCredential.csr(key, name))));
                sites.add(new SiteApiClient(base, roots, key.getPrivate(), joined.credential(), Duration.ofSeconds(10),
                        Duration.ofSeconds(120)));
            }
            ExecutorService pool = Executors.newFixedThreadPool(SITES);
            long t0 = System.nanoTime();
            List<Future<Integer>> done = new ArrayList<>();
            for (SiteApiClient site : sites) {
                done.add(pool.submit(() -> {
                    int stored = 0;
                    for (int b = 0; b < BATCHES_PER_SITE; b++) {
                        SiteApiClient.Exchange x = site.exchange("/v1/site/events", batch(b * EVENTS_PER_BATCH + 1));
                        if (x.status() != 200) {
                            throw new IllegalStateException("central answered " + x.status() + ": "
                                    + new String(x.body(), StandardCharsets.UTF_8));
                        }
                        stored += EVENTS_PER_BATCH;
                    }
                    return stored;
                }));
            }
            long total = 0;
            for (Future<Integer> f : done) {
                total += f.get();
            }
            double s = (System.nanoTime() - t0) / 1e9;
            pool.shutdown();
            long rows = central.services().db.inTransaction(c -> {
                try (var ps = c.prepareStatement("SELECT COUNT(*) FROM site_events"); var rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            });
            System.out.printf("BENCH ingest: %d sites at once, %d batches of %d events each, PostgreSQL %s: %d events "
                    + "(%d rows stored) in %.1f s: %.0f events/s, %.0f batches/s%n", SITES, BATCHES_PER_SITE,
                    EVENTS_PER_BATCH, pg.port(), total, rows, s, total / s, SITES * BATCHES_PER_SITE / s);
        }
    }

    /** A batch the size of an appliance's, with audit-like events (the common kind). */
    private static String batch(long from) {
        ObjectNode b = LinkFaults.JSON.createObjectNode();
        b.put("v", 1);
        b.put("from", from);
        b.put("through", from + EVENTS_PER_BATCH - 1);
        ArrayNode events = b.putArray("events");
        Instant now = Instant.now();
        for (int i = 0; i < EVENTS_PER_BATCH; i++) {
            ObjectNode e = events.addObject();
            e.put("seq", from + i);
            e.put("at", now.toString());
            e.put("kind", "audit");
            ObjectNode d = e.putObject("data");
            d.put("id", from + i);
            d.put("at", now.toString());
            d.put("deviceId", String.format("%064x", from + i));
            d.put("action", "attest");
            d.put("decision", "allow");
            d.put("reason", "attestation passed");
            d.putNull("detail");
        }
        return b.toString();
    }

    /**
     * What a device costs the outbox: one device enrolls and attests every 2 s (SVIDs of 2 min, renewed on schedule)
     * for a minute; the rows it wrote, by kind, with their sizes. BENCHMARKS.md scales them to the defaults.
     */
    @Test
    void outboxRowsOfAnAttestingDevice(Swtpm device, @TempDir Path dir) throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(device::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        kernel.measure("/usr/bin/app", "app v1".getBytes(StandardCharsets.UTF_8));
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofMinutes(2))
                .attestEvery(Duration.ofSeconds(2), Duration.ofSeconds(60))) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            OutboxStore outbox = site.appliance().outbox().store();
            long before = outbox.backlog().lastSeq();
            String id = site.trustWithPolicy(device, dir.resolve("runtime.json"));
            AgentConfig config = site.agentConfig(device, "agent", "rsa2048", "rsa", dir.resolve("securityfs"));
            SiteHarness.Running agent = site.startAgent(config);
            await("trusted", Duration.ofSeconds(60), () -> "trusted".equals(SiteAttestationTest.state(site, id)));
            long trustedAt = outbox.backlog().lastSeq();
            Thread.sleep(60_000);
            SiteHarness.stopAgent(agent);
            report("enrollment to trusted", outbox.rowsAfter(before, 100_000).stream().filter(r -> r.seq() <= trustedAt)
                    .toList());
            report("one minute trusted (30 attestations, SVID 2 min)", outbox.rowsAfter(trustedAt, 100_000));
        }
    }

    private static void report(String what, List<OutboxStore.Row> rows) {
        Map<String, long[]> byKind = new TreeMap<>();
        for (OutboxStore.Row r : rows) {
            long[] a = byKind.computeIfAbsent(r.kind() + (r.kind().equals("audit") ? ":" + action(r) : ""), k -> new long[2]);
            a[0]++;
            a[1] += r.size();
        }
        byKind.forEach((k, a) -> System.out.printf("BENCH outbox %s: %s x%d, %d bytes each on average%n", what, k, a[0],
                a[1] / a[0]));
    }

    private static String action(OutboxStore.Row r) {
        try {
            return LinkFaults.JSON.readTree(r.payload()).path("action").asText();
        } catch (Exception e) {
            return "?";
        }
    }
}
