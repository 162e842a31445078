package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.appliance.admin.AdminClient;
import dev.outpost.appliance.store.OutboxStore;
import dev.outpost.central.fleet.FleetView;
import dev.outpost.sim.BootProfile;
import dev.outpost.sim.GoodPolicies;
import dev.outpost.sim.SimulatedKernel;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.keys.DeviceId;
import dev.outpost.tpm.keys.EkTemplate;
import dev.outpost.tpm.keys.Endorsement;
import dev.outpost.tpm.keys.Pem;
import dev.outpost.tpm.keys.TpmKey;

/**
 * Store and forward end to end (issue 14), both halves real: a nested site reports its device's enrollment and
 * state to central exactly once; with central down the device fails attestation and loses its identity at the site
 * alone; when central is back the events arrive once each, as the site wrote them, and central's fleet view shows
 * the device failed.
 */
@ExtendWith(SwtpmExtension.class)
class OutboxCentralSiteTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void eventsReachCentralOnceAcrossAnOutage(Swtpm gateway, Swtpm device, @TempDir Path dir) throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(device::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        kernel.measure("/usr/bin/app", "app v1".getBytes(StandardCharsets.UTF_8));
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));

        CentralLinkSiteTest.Central central = CentralLinkSiteTest.Central.start(dir.resolve("central"), SiteHarness.TRUST_DOMAIN, 0);
        int port = central.app().sitePort();
        try {
            central.services().admin.add("test-site", gatewayEkHash(gateway), null);
            Path root = Files.writeString(dir.resolve("central-root.pem"), pem(central.services().ca.roots()));
            try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                    .attestEvery(Duration.ofSeconds(2), Duration.ofSeconds(60))
                    .caConfig("  mode: nested")
                    .agentBundle(root)
                    .extraConfig(SiteHarness.upstreamByTpm(port, root, gateway))) {
                site.trustSwtpmManufacturer();
                site.startAppliance();
                String id = site.trustWithPolicy(device, dir.resolve("runtime.json"));
                AgentConfig config = site.agentConfig(device, "agent", "rsa2048", "rsa", dir.resolve("securityfs"));
                SiteHarness.Running agent = site.startAgent(config);
                await("trusted", Duration.ofSeconds(60), () -> "trusted".equals(SiteAttestationTest.state(site, id)));

                // Link up: enrollment and the move to trusted reach central, once.
                CentralLinkSiteTest.Central up = central;
                await("trusted at central", Duration.ofSeconds(30), () -> up.services().fleet.devices("test-site", "trusted")
                        .stream().anyMatch(d -> d.deviceId().equals(id)));
                assertThat(kinds(central, id)).contains("device.enrolled", "device.state", "audit");

                // Link down: central stops; the device fails attestation and is revoked at the site alone.
                central.close();
                kernel.measure("/usr/bin/app", "app v2 (patched by someone)".getBytes(StandardCharsets.UTF_8));
                await("failed at the site", Duration.ofSeconds(60), () -> "failed".equals(SiteAttestationTest.state(site, id)));
                SiteHarness.stopAgent(agent);
                OutboxStore outbox = site.appliance().outbox().store();
                await("revocation queued", Duration.ofSeconds(10), () -> outbox.unsent(500, Long.MAX_VALUE).stream()
                        .anyMatch(r -> r.kind().equals("device.revoked")));
                site.appliance().outbox().sendNow();
                OutboxStore.Backlog waiting = outbox.backlog();
                assertThat(waiting.rows()).as("nothing can be acknowledged while central is down").isPositive();
                // The operator sees the backlog with `outpost-appliance status`.
                String status = new AdminClient(site.adminSocket()).get("/v1/status").body();
                assertThat(JSON.readTree(status).path("outbox").path("backlogRows").asLong()).isPositive();
                assertThat(JSON.readTree(status).path("outbox").path("lastError").asText()).contains("unreachable");

                // Link back (same database, same port): everything arrives, once.
                central = CentralLinkSiteTest.Central.start(dir.resolve("central"), SiteHarness.TRUST_DOMAIN, port);
                site.appliance().outbox().sendNow();
                CentralLinkSiteTest.Central back = central;
                await("acknowledged", Duration.ofSeconds(30), () -> {
                    site.appliance().outbox().sendNow();
                    return outbox.backlog().rows() == 0;
                });
                // Send again: central has it all, nothing doubles.
                long last = outbox.backlog().lastSeq();
                assertThat(outbox.backlog().ackedThrough()).isEqualTo(last);
                List<OutboxStore.Row> kept = outbox.rowsAfter(0, 10_000);
                List<String[]> atCentral = events(central);
                assertThat(atCentral).hasSize(kept.size());
                for (int i = 0; i < kept.size(); i++) {
                    OutboxStore.Row r = kept.get(i);
                    assertThat(Long.parseLong(atCentral.get(i)[0])).isEqualTo(r.seq());
                    assertThat(atCentral.get(i)[1]).isEqualTo(r.kind());
                    assertThat(JSON.readTree(atCentral.get(i)[2])).isEqualTo(JSON.readTree(r.payload()));
                }
                List<String> deviceKinds = kinds(central, id);
                assertThat(deviceKinds.stream().filter("device.revoked"::equals).count()).isEqualTo(1);
                assertThat(deviceKinds.stream().filter("device.enrolled"::equals).count()).isEqualTo(1);
                List<FleetView.Device> failed = back.services().fleet.devices("test-site", "failed");
                assertThat(failed).singleElement().satisfies(d -> {
                    assertThat(d.deviceId()).isEqualTo(id);
                    assertThat(String.join(" ", d.reasons())).contains("runtime_policy_hash");
                    assertThat(d.revokeReason()).startsWith("attestation failed");
                });
                assertThat(back.services().fleet.contacts()).singleElement()
                        .satisfies(c -> assertThat(c.ackedThrough()).isEqualTo(last));
            }
        } finally {
            central.close();
        }
    }

    /** SIGKILL of the appliance process in the middle of a drain: after a restart nothing is lost, nothing doubled. */
    @Test
    void aKilledApplianceResumesWithoutLossOrDoubles(Swtpm gateway, @TempDir Path dir) throws Exception {
        CentralLinkSiteTest.Central central = CentralLinkSiteTest.Central.start(dir.resolve("central"), SiteHarness.TRUST_DOMAIN, 0);
        int port = central.app().sitePort();
        try {
            central.services().admin.add("test-site", gatewayEkHash(gateway), null);
            Path root = Files.writeString(dir.resolve("central-root.pem"), pem(central.services().ca.roots()));
            try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                    .caConfig("  mode: nested")
                    .extraConfig(SiteHarness.upstreamByTpm(port, root, gateway,
                            // One event per POST: the drain takes long enough to be cut in the middle.
                            "outbox:",
                            "  batchRows: 1"))) {
                site.trustSwtpmManufacturer();
                site.startApplianceProcess();
                // CentralLinkSiteTest.Central down while the site writes a backlog (each allow-list entry: an audit and an operator event).
                central.close();
                AdminClient admin = new AdminClient(site.adminSocket());
                for (int i = 0; i < 400; i++) {
                    assertThat(admin.post("/v1/allow", "{\"ekHash\":\"" + String.format("%064x", i + 1) + "\"}").ok()).isTrue();
                }
                central = CentralLinkSiteTest.Central.start(dir.resolve("central"), SiteHarness.TRUST_DOMAIN, port);
                CentralLinkSiteTest.Central back = central;
                await("draining", Duration.ofSeconds(120), () -> acked(back) > 0);
                site.killApplianceProcess();
                long atKill = acked(back);
                assertThat(atKill).as("killed mid-drain").isLessThan(800);

                site.startApplianceProcess();
                await("drained after the restart", Duration.ofSeconds(180), () -> {
                    try {
                        long last = lastSeq(admin(site));
                        return last >= 800 && acked(back) == last;
                    } catch (Exception e) {
                        return false;
                    }
                });
                long last = lastSeq(admin(site));
                List<String[]> atCentral = events(central);
                assertThat(atCentral).as("one row per seq, none missing").hasSize((int) last);
                for (int i = 0; i < atCentral.size(); i++) {
                    assertThat(Long.parseLong(atCentral.get(i)[0])).isEqualTo(i + 1);
                }
                assertThat(atCentral.stream().filter(e -> e[1].equals("operator")).count()).isEqualTo(400);
                site.stopAppliance();
            }
        } finally {
            central.close();
        }
    }

    /**
     * The gateway's database is restored from a backup older than what central holds: the events the site writes
     * afterwards reuse seqs central already took. Central names the first one it holds otherwise, the site renumbers
     * from there, and every event reaches central once: those written before the backup, those written between the
     * backup and the restore (central had them; the site lost them), and those written after the restore.
     */
    @Test
    void aSiteRestoredFromAnOlderBackupLosesNoEventUpward(Swtpm gateway, @TempDir Path dir) throws Exception {
        CentralLinkSiteTest.Central central = CentralLinkSiteTest.Central.start(dir.resolve("central"), SiteHarness.TRUST_DOMAIN, 0);
        int port = central.app().sitePort();
        Path archive = dir.resolve("site-backup.tar.gz");
        try {
            central.services().admin.add("test-site", gatewayEkHash(gateway), null);
            Path root = Files.writeString(dir.resolve("central-root.pem"), pem(central.services().ca.roots()));
            try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                    .caConfig("  mode: nested")
                    .extraConfig(SiteHarness.upstreamByTpm(port, root, gateway))) {
                site.trustSwtpmManufacturer();
                site.startAppliance();
                allow(site, 1, 3);
                drained(site, central);
                dev.outpost.testkit.CliRun backup = dev.outpost.testkit.CliRun.run(
                        dev.outpost.appliance.cli.ApplianceCli::commandLine, "backup", "--out", archive.toString(),
                        "--socket", site.adminSocket().toString());
                assertThat(backup.exitCode()).as(backup.err()).isZero();
                allow(site, 4, 8);
                drained(site, central);
                long heldBeforeRestore = acked(central);
                site.stopAppliance();

                dev.outpost.testkit.CliRun restore = dev.outpost.testkit.CliRun.run(
                        dev.outpost.appliance.cli.ApplianceCli::commandLine, "restore", "--from", archive.toString(),
                        "--data-dir", dir.resolve("data").toString(), "--force");
                assertThat(restore.exitCode()).as(restore.err()).isZero();
                site.startAppliance();
                allow(site, 9, 12);
                drained(site, central);

                assertThat(lastSeq(admin(site))).as("renumbered past what central held").isGreaterThan(heldBeforeRestore);
                List<String> allowed = events(central).stream().filter(e -> e[1].equals("operator"))
                        .map(e -> e[2]).filter(d -> d.contains("allow")).toList();
                for (int i = 1; i <= 12; i++) {
                    String ek = String.format("%064x", i);
                    assertThat(allowed.stream().filter(d -> d.contains(ek)).count()).as("entry " + i + " at central, once")
                            .isEqualTo(1);
                }
                site.stopAppliance();
            }
        } finally {
            central.close();
        }
    }

    private static void allow(SiteHarness site, int from, int to) throws Exception {
        for (int i = from; i <= to; i++) {
            assertThat(admin(site).post("/v1/allow", "{\"ekHash\":\"" + String.format("%064x", i) + "\"}").ok()).isTrue();
        }
    }

    private static void drained(SiteHarness site, CentralLinkSiteTest.Central central) throws InterruptedException {
        OutboxStore outbox = site.appliance().outbox().store();
        await("drained to central", Duration.ofSeconds(60), () -> {
            site.appliance().outbox().sendNow();
            OutboxStore.Backlog b = outbox.backlog();
            return b.rows() == 0 && acked(central) == b.lastSeq();
        });
    }

    private static AdminClient admin(SiteHarness site) {
        return new AdminClient(site.adminSocket());
    }

    private static long lastSeq(AdminClient admin) throws Exception {
        return JSON.readTree(admin.get("/v1/status").body()).path("outbox").path("lastSeq").asLong(-1);
    }

    private static long acked(CentralLinkSiteTest.Central central) {
        return central.services().fleet.contacts().stream().filter(c -> c.site().equals("test-site")).findFirst()
                .map(FleetView.SiteContact::ackedThrough).orElse(0L);
    }

    private static List<String> kinds(CentralLinkSiteTest.Central central, String deviceId) {
        return central.services().fleet.events("test-site", null, deviceId, 10_000).stream().map(FleetView.Event::kind).toList();
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

    private static String gatewayEkHash(Swtpm gateway) throws Exception {
        try (Tpm2 tpm = Tpm2.open(gateway.uri()); TpmKey ek = Endorsement.load(tpm, EkTemplate.RSA_2048)) {
            return DeviceId.of(ek.pub().publicKey());
        }
    }

    private static String pem(List<java.security.cert.X509Certificate> certs) throws Exception {
        StringBuilder b = new StringBuilder();
        for (java.security.cert.X509Certificate c : certs) {
            b.append(Pem.certificate(c));
        }
        return b.toString();
    }
}
