package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.appliance.admin.AdminClient;
import dev.outpost.appliance.cli.ApplianceCli;
import dev.outpost.testkit.CliRun;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;

/**
 * {@code outpost-appliance audit verify} while the appliance runs: the database admits one process, so the command
 * asks the appliance, which walks the chains in one snapshot and compares the last checkpoint with its TPM's index
 * now. A record edited in the running site's database is named.
 */
@ExtendWith(SwtpmExtension.class)
class AuditVerifyRunningSiteTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void theRunningApplianceVerifiesItsTrailAgainstItsTpmAndNamesAnEdit(Swtpm gateway, @TempDir Path dir) throws Exception {
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                .extraConfig(String.join("\n", "upstream:", "  tpm: " + gateway.uri(), "audit:", "  anchor: tpm",
                        "  anchorInterval: PT1S"))) {
            site.startAppliance();
            AdminClient admin = new AdminClient(site.adminSocket());
            for (int i = 0; i < 6; i++) {
                assertThat(admin.post("/v1/allow", "{\"ekHash\":\"" + String.format("%064x", i + 1) + "\"}").ok()).isTrue();
            }
            Path data = dir.resolve("data");
            await("the six records in the chain and a checkpoint made", Duration.ofSeconds(30), () -> {
                JsonNode r = report(verify(site, data, "--json"));
                return r.path("ok").asBoolean() && r.path("checkpoints").asInt() > 0 && lastingHead(r) >= 6;
            });
            CliRun ok = verify(site, data);
            assertThat(ok.exitCode()).as(ok.out() + ok.err()).isZero();
            assertThat(ok.out()).contains("audit chain: verified").contains("lasting")
                    .as("the last checkpoint was compared with the TPM's index").doesNotContain("TPM not checked");
            CliRun wrongOption = verify(site, data, "--no-tpm");
            assertThat(wrongOption.exitCode()).isEqualTo(2);
            assertThat(wrongOption.err()).contains("running");

            int edited = site.appliance().database().inTransaction(c -> c.createStatement().executeUpdate(
                    "UPDATE audit SET reason = 'nothing happened' WHERE lasting = TRUE AND chain_seq = 2"));
            assertThat(edited).isEqualTo(1);
            CliRun bad = verify(site, data);
            assertThat(bad.exitCode()).as(bad.out() + bad.err()).isEqualTo(1);
            assertThat(bad.out()).contains("audit chain: FAILED").contains("PROBLEM MODIFIED (lasting)");
        }
    }

    private static CliRun verify(SiteHarness site, Path data, String... more) {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("audit", "verify", "--data-dir",
                data.toString(), "--socket", site.adminSocket().toString()));
        args.addAll(java.util.List.of(more));
        return CliRun.run(ApplianceCli::commandLine, args.toArray(String[]::new));
    }

    private static JsonNode report(CliRun run) {
        try {
            return JSON.readTree(run.out());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(run.err(), e);
        }
    }

    private static long lastingHead(JsonNode report) {
        for (JsonNode ch : report.path("chains")) {
            if ("lasting".equals(ch.path("chain").asText())) {
                return ch.path("headSeq").asLong();
            }
        }
        return 0;
    }
}
