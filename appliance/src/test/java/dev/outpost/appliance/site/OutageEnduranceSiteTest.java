package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.agent.state.AgentState;
import dev.outpost.agent.state.NodeIdentity;
import dev.outpost.appliance.admin.AdminClient;
import dev.outpost.appliance.ca.CaRotation;
import dev.outpost.appliance.cli.ApplianceCli;
import dev.outpost.appliance.directives.DirectiveFollower;
import dev.outpost.appliance.store.OutboxStore;
import dev.outpost.central.cli.CentralCli;
import dev.outpost.central.fleet.FleetView;
import dev.outpost.sim.BootProfile;
import dev.outpost.sim.GoodPolicies;
import dev.outpost.sim.SimulatedKernel;
import dev.outpost.testkit.CliRun;
import dev.outpost.testkit.MutableClock;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;

/**
 * Offline endurance (issue 14): a nested site and three real agents (swtpm) on one clock the test moves, 30 simulated
 * days cut off from central in 12-hour steps. Devices attest on their schedule and renew their SVIDs; the site CA
 * reaches its rotation point with central unreachable and is rotated by the file flow ({@code ca csr}, central's
 * {@code site sign-ca}, {@code ca install}); device 3 fails on day 20 and is revoked at the site at once. Then the
 * appliance itself is away longer than an SVID lives: the devices keep their SVIDs until they expire and resume with
 * their enrolled AK, never enrolling again. Then central is back and everything converges with no operator step: each
 * outbox message arrives once (count and content), central's fleet view equals the site's device states, and the
 * policy and the ban central decided during the outage are applied at the site.
 *
 * <p>Central runs on the wall clock (it is the other side of the cut, and the upward link's TLS is the JDK's); the
 * appliance and the agents share the moved clock. Timers that matter are driven here: agents are woken after each move
 * (their waits are wall-time durations), the CA rotation is ticked; the outbox sender and the stale sweep run on their
 * own short timers and decide by the clock; the directive follower's one-minute timer is ticked by hand.
 */
@ExtendWith(SwtpmExtension.class)
class OutageEnduranceSiteTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration STEP = Duration.ofHours(12);
    // Not a multiple of STEP: an SVID whose renewal one loaded step missed must not end exactly at a step's instant.
    private static final Duration SVID_TTL = Duration.ofHours(42);
    private static final Duration OUTAGE = Duration.ofDays(30);
    private static final Duration FAIL_AFTER = Duration.ofDays(20);

    @Test
    void thirtyDaysCutOffThenConvergesByItself(Swtpm gateway, Swtpm tpm1, Swtpm tpm2, Swtpm tpm3, @TempDir Path dir)
            throws Exception {
        Swtpm[] tpms = {tpm1, tpm2, tpm3};
        SimulatedKernel[] kernels = new SimulatedKernel[3];
        for (int i = 0; i < 3; i++) {
            Swtpm t = tpms[i];
            kernels[i] = new SimulatedKernel(t::uri, dir.resolve("securityfs" + i));
            kernels[i].boot(BootProfile.defaults());
            kernels[i].measure("/usr/bin/app", ("app of device " + (i + 1)).getBytes(StandardCharsets.UTF_8));
            Files.write(dir.resolve("runtime" + i + ".json"), GoodPolicies.runtimePolicyJson(kernels[i]));
        }
        MutableClock clock = new MutableClock();

        CentralLinkSiteTest.Central central = CentralLinkSiteTest.Central.start(dir.resolve("central"),
                SiteHarness.TRUST_DOMAIN, 0);
        int port = central.app().sitePort();
        // The central team's own commands (`outpost-central ...`) work on central's database while its service is down.
        Path centralYaml = Files.writeString(dir.resolve("central.yaml"), "trustDomain: " + SiteHarness.TRUST_DOMAIN
                + "\ndataDir: " + dir.resolve("central") + "\nserver: {host: 127.0.0.1, port: " + port + "}"
                + "\nbundleEndpoint: {host: 127.0.0.1, port: 0}\nmonitoring: {host: 127.0.0.1, port: 0}\n");
        try {
            central.services().admin.add("test-site", CentralLinkSiteTest.gatewayEkHash(gateway), null);
            Path root = central.rootPem(dir.resolve("central-root.pem"));
            try (SiteHarness site = new SiteHarness(dir, "cert", SVID_TTL)
                    // Attest every 10 h, stale after 48 h: each 12-hour step finds every device due and none stale.
                    // A challenge lives a day, so a step that lands mid-attestation does not void the nonce.
                    .attestEvery(Duration.ofHours(10), Duration.ofHours(48))
                    .challengeTtl(Duration.ofDays(1))
                    .withClock(clock)
                    .withAgentClock(clock)
                    // A 20-day site CA: its rotation point (half its life left) falls on day 10 of the outage.
                    .caConfig("  mode: nested", "  ttl: P20D")
                    .agentBundle(root)
                    .extraConfig(SiteHarness.upstreamByTpm(port, root, gateway))) {
                site.trustSwtpmManufacturer();
                site.startAppliance();
                String[] ids = new String[3];
                AgentConfig[] configs = new AgentConfig[3];
                SiteHarness.Running[] agents = new SiteHarness.Running[3];
                for (int i = 0; i < 3; i++) {
                    ids[i] = site.trustWithPolicy(tpms[i], dir.resolve("runtime" + i + ".json"));
                    configs[i] = site.agentConfig(tpms[i], "agent" + i, "rsa2048", "rsa", dir.resolve("securityfs" + i));
                    agents[i] = site.startAgent(configs[i]);
                }
                for (String id : ids) {
                    await("trusted " + id, Duration.ofSeconds(90), () -> "trusted".equals(SiteAttestationTest.state(site, id)));
                }
                CentralLinkSiteTest.Central up = central;
                await("three trusted at central", Duration.ofSeconds(30),
                        () -> up.services().fleet.devices("test-site", "trusted").size() == 3);
                X509Certificate firstCa = DeviceOnClock.caCert(site);

                // The link is cut.
                central.close();
                OutboxStore outbox = site.appliance().outbox().store();
                long ackedAtCut = outbox.backlog().ackedThrough();
                // Meanwhile the central team decides: a fleet policy for label line-1, and a ban of device 2.
                assertThat(centralCli(centralYaml, "policy", "push", "fleet-runtime", "--kind", "runtime", "--file",
                        dir.resolve("runtime0.json").toString()).exitCode()).isZero();
                assertThat(centralCli(centralYaml, "policy", "assign", "fleet-runtime", "--label", "line-1").exitCode()).isZero();
                assertThat(centralCli(centralYaml, "device", "revoke", ids[1], "--reason", "stolen at the depot").exitCode())
                        .isZero();

                // 30 days cut off, 12 hours at a time.
                Instant start = clock.instant();
                List<Set<BigInteger>> serials = List.of(new HashSet<>(), new HashSet<>(), new HashSet<>());
                boolean fileFlow = false;
                boolean failed = false;
                X509Certificate fileFlowCa = null;
                while (Duration.between(start, clock.instant()).compareTo(OUTAGE) < 0) {
                    clock.advance(STEP);
                    Instant now = clock.instant();
                    CaRotation.State rotation = site.appliance().caRotation().tick();
                    if (!fileFlow && rotation == CaRotation.State.RETRYING) {
                        // Day 10: the next CA cannot be signed online; the operator carries the request to central.
                        assertThat(Duration.between(start, now)).isGreaterThanOrEqualTo(Duration.ofDays(9));
                        fileFlowCa = fileFlow(site, centralYaml, dir);
                        fileFlow = true;
                    }
                    if (!failed && Duration.between(start, now).compareTo(FAIL_AFTER) >= 0) {
                        kernels[2].measure("/usr/bin/backdoor", "nobody knows this".getBytes(StandardCharsets.UTF_8));
                        failed = true;
                        agents[2].daemon().wake();
                        await("device 3 failed at the site", Duration.ofSeconds(60),
                                () -> "failed".equals(SiteAttestationTest.state(site, ids[2])));
                        // Its SVID (still valid) no longer gets in: checked below, once its agent is stopped.
                        // Revoked at once, by the site alone: the signed revocation is queued for central.
                        await("device 3's revocation in the outbox", Duration.ofSeconds(10),
                                () -> site.appliance().outbox().store().unsent(10_000, Long.MAX_VALUE).stream().anyMatch(r ->
                                        r.kind().equals("device.revoked") && r.payload().contains(ids[2])
                                                && r.payload().contains("attestation failed")));
                        SiteHarness.stopAgent(agents[2]);
                        NodeIdentity kept = SiteHarness.identity(configs[2]); // its agent is stopped
                        assertThat(kept).as("device 3's identity on disk: %s", DeviceOnClock.describe(configs[2])).isNotNull();
                        assertThat(kept.validAt(now)).as("device 3's SVID at %s: %s", now, DeviceOnClock.describe(configs[2]))
                                .isTrue();
                        assertThatThrownBy(() -> DeviceOnClock.connectWithSvid(site, configs[2], clock).close())
                                .isInstanceOfSatisfying(MqttException.class, e -> assertThat(e.getReasonCode()).isEqualTo(0x87));
                    }
                    for (int i = 0; i < (failed ? 2 : 3); i++) {
                        SiteHarness.Running a = agents[i];
                        int n = i;
                        // Read once per look: during a renewal the agent writes the new key before the new SVID.
                        java.util.concurrent.atomic.AtomicReference<NodeIdentity> seen = new java.util.concurrent.atomic.AtomicReference<>();
                        await("device " + (i + 1) + " attested at " + now, Duration.ofSeconds(60), () -> {
                            a.daemon().wake();
                            Instant at = a.daemon().lastVerdictAt();
                            seen.set(DeviceOnClock.validSvid(configs[n], clock));
                            return at != null && !at.isBefore(now) && seen.get() != null;
                        });
                        assertThat(a.daemon().verdict()).isEqualTo("trusted");
                        serials.get(i).add(seen.get().leaf().getSerialNumber());
                    }
                }
                assertThat(fileFlow).as("the rotation point was reached with central unreachable").isTrue();
                for (int i = 0; i < 2; i++) {
                    assertThat(serials.get(i)).as("SVIDs renewed through the outage").hasSizeGreaterThan(10);
                    assertThat(DeviceOnClock.signedBy(DeviceOnClock.settled(configs[i]).leaf(), fileFlowCa))
                            .as("device %d holds an SVID of the CA the file flow brought", i + 1).isTrue();
                }
                assertThat(DeviceOnClock.caCert(site)).isEqualTo(fileFlowCa).isNotEqualTo(firstCa);
                assertThat(SiteAttestationTest.state(site, ids[0])).isEqualTo("trusted");
                assertThat(SiteAttestationTest.state(site, ids[1])).as("the ban has not arrived").isEqualTo("trusted");
                JsonNode status = JSON.readTree(cli("status", "--json", "--socket", site.adminSocket().toString()).out());
                assertThat(status.path("outbox").path("backlogRows").asLong()).isPositive();
                assertThat(outbox.backlog().coalesced()).isZero();

                // The appliance is away longer than an SVID lives: the devices keep theirs until they expire, then
                // resume with their enrolled AK when it is back.
                site.stopAppliance();
                BigInteger[] held = {DeviceOnClock.serial(configs[0]), DeviceOnClock.serial(configs[1])};
                clock.advance(STEP);
                for (int i = 0; i < 2; i++) {
                    agents[i].daemon().wake();
                }
                await("devices notice", Duration.ofSeconds(30), () -> !"connected".equals(agents[0].daemon().status())
                        && !"connected".equals(agents[1].daemon().status()));
                for (int i = 0; i < 2; i++) {
                    assertThat(DeviceOnClock.serial(configs[i])).as("kept while valid").isEqualTo(held[i]);
                    assertThat(DeviceOnClock.settled(configs[i]).validAt(clock.instant())).isTrue();
                }
                clock.advance(SVID_TTL);
                for (int i = 0; i < 2; i++) {
                    assertThat(DeviceOnClock.settled(configs[i]).validAt(clock.instant())).as("expired by now").isFalse();
                }
                site.startAppliance();
                Instant back = clock.instant();
                for (int i = 0; i < 2; i++) {
                    SiteHarness.Running a = agents[i];
                    int n = i;
                    await("device " + (i + 1) + " resumed", Duration.ofSeconds(90), () -> {
                        a.daemon().wake();
                        Instant at = a.daemon().lastVerdictAt();
                        return at != null && !at.isBefore(back) && DeviceOnClock.validSvid(configs[n], clock) != null
                                && "trusted".equals(a.daemon().verdict());
                    });
                    assertThat(DeviceOnClock.serial(configs[i])).isNotEqualTo(held[i]);
                    String audit = auditOf(site, ids[i]);
                    assertThat(count(audit, "activate")).as("device %d enrolled once, never again", i + 1).isEqualTo(1);
                    assertThat(count(audit, "resume")).as("device %d resumed", i + 1).isGreaterThanOrEqualTo(1);
                }
                assertThat(count(auditOf(site, ids[2]), "activate")).isEqualTo(1);

                // The link is back. Nothing is done by hand: the sender's back-off is on the clock (moved past it);
                // the directive follower's one-minute timer is ticked here rather than waited for.
                central = CentralLinkSiteTest.Central.start(dir.resolve("central"), SiteHarness.TRUST_DOMAIN, port);
                CentralLinkSiteTest.Central returned = central;
                clock.advance(Duration.ofMinutes(10));
                DirectiveFollower follower = site.appliance().directiveFollower().orElseThrow();
                await("directives applied", Duration.ofSeconds(30), () -> {
                    follower.poll();
                    return follower.status().lastError() == null && follower.status().applied() == follower.status().latest()
                            && follower.status().latest() >= 3;
                });
                assertThat(SiteAttestationTest.state(site, ids[1])).isEqualTo("revoked");
                assertThat(deviceJson(site, ids[1]).path("revokeReason").asText()).contains("stolen at the depot");
                assertThat(cli("policy", "list", "--socket", site.adminSocket().toString()).out()).contains("fleet-runtime");
                await("agent 2 refused", Duration.ofSeconds(30), () -> {
                    agents[1].daemon().wake();
                    return !"connected".equals(agents[1].daemon().status());
                });
                SiteHarness.stopAgent(agents[1]);
                // Device 1 stops too, so that nothing new is written while the two sides are compared.
                SiteHarness.stopAgent(agents[0]);
                // The appliance restarted above: its outbox (same database) through the running instance.
                OutboxStore drained = site.appliance().outbox().store();
                await("outbox drained", Duration.ofSeconds(120), () -> drained.backlog().rows() == 0);

                // Every message once: seq 1..last at central, none twice (unique), none missing, and each one written
                // since the cut equal to the site's row.
                OutboxStore.Backlog done = drained.backlog();
                assertThat(done.coalesced()).isZero();
                assertThat(done.ackedThrough()).isEqualTo(done.lastSeq());
                List<String[]> atCentral = events(central);
                assertThat(atCentral).hasSize((int) done.lastSeq());
                for (int i = 0; i < atCentral.size(); i++) {
                    assertThat(Long.parseLong(atCentral.get(i)[0])).isEqualTo(i + 1);
                }
                List<OutboxStore.Row> since = drained.rowsAfter(ackedAtCut, 1_000_000);
                assertThat(since).hasSize((int) (done.lastSeq() - ackedAtCut));
                for (OutboxStore.Row r : since) {
                    String[] e = atCentral.get((int) r.seq() - 1);
                    assertThat(e[1]).isEqualTo(r.kind());
                    assertThat(JSON.readTree(e[2])).isEqualTo(JSON.readTree(r.payload()));
                }
                assertThat(since.stream().filter(r -> r.kind().equals("device.revoked")).count()).isEqualTo(2);
                assertThat(kinds(central, ids[2]).stream().filter("device.revoked"::equals).count()).isEqualTo(1);
                assertThat(since.stream().filter(r -> r.kind().equals("ca")).count()).isGreaterThanOrEqualTo(2);

                // Central's fleet view is the site's.
                Map<String, String> siteStates = new TreeMap<>();
                for (JsonNode d : JSON.readTree(new AdminClient(site.adminSocket()).get("/v1/devices").body())) {
                    siteStates.put(d.path("deviceId").asText(), d.path("state").asText());
                }
                Map<String, String> centralStates = new TreeMap<>();
                for (FleetView.Device d : returned.services().fleet.devices("test-site", null)) {
                    centralStates.put(d.deviceId(), d.state());
                }
                assertThat(centralStates).isEqualTo(siteStates).containsEntry(ids[0], "trusted")
                        .containsEntry(ids[1], "revoked").containsEntry(ids[2], "failed");
                CliRun fleet = centralCli(centralYaml, "device", "list", "--site", "test-site", "--state", "failed", "--json");
                assertThat(fleet.out()).contains(ids[2]).doesNotContain(ids[0]);
            }
        } finally {
            central.close();
        }
    }

    /** `ca csr` at the site, `site sign-ca` at central, `ca install` at the site: the next CA, published first. */
    private static X509Certificate fileFlow(SiteHarness site, Path centralYaml, Path dir) throws Exception {
        Path csr = dir.resolve("next.csr");
        CliRun made = cli("ca", "csr", "--config", site.configFile().toString(), "--out", csr.toString());
        assertThat(made.exitCode()).as(made.err()).isZero();
        CliRun signed = centralCli(centralYaml, "site", "sign-ca", "test-site", "--csr", csr.toString(), "--out",
                dir.resolve("next.pem").toString(), "--chain-out", dir.resolve("next-chain.pem").toString(), "--ttl", "60d");
        assertThat(signed.exitCode()).as(signed.err()).isZero();
        CliRun installed = cli("ca", "install", "--config", site.configFile().toString(), "--cert",
                dir.resolve("next.pem").toString(), "--chain", dir.resolve("next-chain.pem").toString());
        assertThat(installed.exitCode()).as(installed.err()).isZero();
        assertThat(site.appliance().caRotation().state()).isEqualTo(CaRotation.State.PREPARED);
        return AgentState.certificates(Files.readString(dir.resolve("next.pem"))).get(0);
    }

    private static JsonNode deviceJson(SiteHarness site, String id) throws Exception {
        return JSON.readTree(new AdminClient(site.adminSocket()).get("/v1/devices/" + id).body());
    }

    private static String auditOf(SiteHarness site, String id) throws Exception {
        return new AdminClient(site.adminSocket()).get("/v1/audit?device=" + id + "&limit=1000").body();
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

    private static List<String> kinds(CentralLinkSiteTest.Central central, String deviceId) {
        return central.services().fleet.events("test-site", null, deviceId, 10_000).stream().map(FleetView.Event::kind)
                .toList();
    }

    private static List<String[]> events(CentralLinkSiteTest.Central central) {
        return central.services().db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT seq, kind, data FROM site_events WHERE site = 'test-site' "
                    + "ORDER BY seq"); ResultSet rs = ps.executeQuery()) {
                List<String[]> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(new String[] {Long.toString(rs.getLong(1)), rs.getString(2), rs.getString(3)});
                }
                return out;
            }
        });
    }

    private static CliRun cli(String... args) {
        return CliRun.run(ApplianceCli::commandLine, args);
    }

    private static CliRun centralCli(Path yaml, String... args) {
        String[] all = java.util.Arrays.copyOf(args, args.length + 2);
        all[args.length] = "--config";
        all[args.length + 1] = yaml.toString();
        return CliRun.run(CentralCli::commandLine, all);
    }
}
