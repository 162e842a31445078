package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.appliance.admin.AdminClient;
import dev.outpost.central.cli.CentralCli;
import dev.outpost.testkit.CliRun;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.keys.DeviceId;
import dev.outpost.tpm.keys.EkTemplate;
import dev.outpost.tpm.keys.Endorsement;
import dev.outpost.tpm.keys.Pem;
import dev.outpost.tpm.keys.TpmKey;

/**
 * The audit trail end to end: a site joined by its gateway's TPM, anchoring its audit chain in that TPM, sends its
 * records and checkpoints through the outbox; {@code outpost-central events audit-chain} on central's database says
 * verified; an event edited in central's database is named.
 */
@ExtendWith(SwtpmExtension.class)
class AuditChainCentralSiteTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aSitesAuditTrailVerifiesAtCentralAndAnEditThereIsNamed(Swtpm gateway, @TempDir Path dir) throws Exception {
        Path centralDir = dir.resolve("central");
        CentralLinkSiteTest.Central central = CentralLinkSiteTest.Central.start(centralDir, SiteHarness.TRUST_DOMAIN, 0);
        try {
            central.services().admin.add("test-site", gatewayEkHash(gateway), null);
            Path root = Files.writeString(dir.resolve("central-root.pem"), pem(central.services().ca.roots()));
            Path yaml = Files.writeString(dir.resolve("central.yaml"), String.join("\n",
                    "trustDomain: " + SiteHarness.TRUST_DOMAIN,
                    "dataDir: " + centralDir,
                    "server: {host: 127.0.0.1, port: 0}",
                    "bundleEndpoint: {host: 127.0.0.1, port: 0}", "monitoring: {host: 127.0.0.1, port: 0}", ""));
            try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                    .caConfig("  mode: nested")
                    .extraConfig(SiteHarness.upstreamByTpm(central.app().sitePort(), root, gateway,
                            "audit:",
                            "  anchor: tpm",
                            "  anchorInterval: PT1S"))) {
                site.trustSwtpmManufacturer();
                site.startAppliance();
                AdminClient admin = new AdminClient(site.adminSocket());
                for (int i = 0; i < 6; i++) {
                    // each an operator act: a lasting audit record (and an operator event)
                    assertThat(admin.post("/v1/allow", "{\"ekHash\":\"" + String.format("%064x", i + 1) + "\"}").ok())
                            .isTrue();
                }
                await("anchored and received", Duration.ofSeconds(60), () -> {
                    site.appliance().outbox().sendNow();
                    return site.appliance().outbox().store().backlog().rows() == 0 && lastCheckpointCovers(central);
                });
            }

            CliRun ok = CliRun.run(CentralCli::commandLine, "events", "audit-chain", "--site", "test-site", "--json",
                    "--config", yaml.toString());
            assertThat(ok.exitCode()).as(ok.out() + ok.err()).isZero();
            JsonNode report = JSON.readTree(ok.out());
            assertThat(report.get("ok").asBoolean()).isTrue();
            assertThat(report.get("checkpoints").asInt()).isPositive();
            assertThat(report.get("akCompared").asBoolean()).as("the AK central saw at the TPM join certifies the anchors")
                    .isTrue();
            assertThat(report.get("chains").get(1).get("records").asLong()).isGreaterThanOrEqualTo(6);

            // an edit of one received lasting record in central's database
            long event = central.services().db.inTransaction(c -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT seq FROM site_events WHERE site = 'test-site' "
                        + "AND kind = 'audit' AND data LIKE '%\"chain\":\"lasting\"%' ORDER BY seq");
                     ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    rs.next();
                    return rs.getLong(1);
                }
            });
            int edited = central.services().db.inTransaction(c -> c.createStatement().executeUpdate(
                    "UPDATE site_events SET data = REPLACE(data, '\"action\":\"', '\"action\":\"not ') "
                            + "WHERE site = 'test-site' AND seq = " + event));
            assertThat(edited).isEqualTo(1);
            assertThat(dataOf(central, "audit")).anyMatch(d -> d.contains("\"action\":\"not "));
            CliRun bad = CliRun.run(CentralCli::commandLine, "events", "audit-chain", "--site", "test-site",
                    "--config", yaml.toString());
            assertThat(bad.exitCode()).as(bad.out() + bad.err()).isEqualTo(1);
            assertThat(bad.out()).contains("PROBLEM MODIFIED (lasting) event #" + event);
        } finally {
            central.close();
        }
    }

    /** Central holds a checkpoint that anchors the last lasting record it holds. */
    private static boolean lastCheckpointCovers(CentralLinkSiteTest.Central central) {
        List<String> cps = dataOf(central, "audit.checkpoint");
        List<String> audits = dataOf(central, "audit");
        if (cps.isEmpty() || audits.isEmpty()) {
            return false;
        }
        try {
            long anchored = JSON.readTree(cps.get(cps.size() - 1)).get("lastingSeq").asLong();
            long held = 0;
            for (String a : audits) {
                JsonNode d = JSON.readTree(a);
                if ("lasting".equals(d.path("chain").asText())) {
                    held = Math.max(held, d.get("seq").asLong());
                }
            }
            return held > 0 && anchored == held;
        } catch (Exception e) {
            return false;
        }
    }

    private static List<String> dataOf(CentralLinkSiteTest.Central central, String kind) {
        return central.services().db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT data FROM site_events WHERE site = 'test-site' "
                    + "AND kind = ? ORDER BY seq")) {
                ps.setString(1, kind);
                try (ResultSet rs = ps.executeQuery()) {
                    List<String> out = new java.util.ArrayList<>();
                    while (rs.next()) {
                        out.add(rs.getString(1));
                    }
                    return out;
                }
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
