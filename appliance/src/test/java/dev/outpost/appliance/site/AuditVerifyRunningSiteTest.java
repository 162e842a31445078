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
            exportFromTheRunningAppliance(site, data);
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

    /**
     * {@code audit export} while the appliance holds the database: the appliance writes it (one snapshot), the command
     * fetches it through the admin socket; each chain comes whole and linked, and the file it was written to is gone.
     */
    private static void exportFromTheRunningAppliance(SiteHarness site, Path data) throws Exception {
        CliRun r = CliRun.run(ApplianceCli::commandLine, "audit", "export", "--data-dir", data.toString(), "--socket",
                site.adminSocket().toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        java.util.Map<String, String> lastHash = new java.util.HashMap<>();
        java.util.Map<String, Long> lastSeq = new java.util.HashMap<>();
        int allows = 0;
        int checkpoints = 0;
        for (String line : r.out().split("\n")) {
            JsonNode n = JSON.readTree(line);
            String chain = n.path("chain").asText();
            switch (n.path("type").asText()) {
                case "base" -> {
                    lastHash.put(chain, n.path("hash").asText());
                    lastSeq.put(chain, n.path("seq").asLong());
                }
                case "record" -> {
                    assertThat(n.path("seq").asLong()).as(line).isEqualTo(lastSeq.get(chain) + 1);
                    assertThat(n.path("prev").asText()).as(line).isEqualTo(lastHash.get(chain));
                    lastHash.put(chain, n.path("hash").asText());
                    lastSeq.put(chain, n.path("seq").asLong());
                    allows += "allow".equals(n.path("action").asText()) ? 1 : 0;
                }
                case "checkpoint" -> checkpoints++;
                default -> throw new AssertionError("unexpected line " + line);
            }
        }
        assertThat(lastHash).containsOnlyKeys("routine", "lasting");
        assertThat(allows).isEqualTo(6);
        assertThat(checkpoints).isPositive();
        Path runtime = site.adminSocket().getParent();
        await("the appliance's export file removed", Duration.ofSeconds(10), () -> {
            try (var files = java.nio.file.Files.list(runtime)) {
                return files.noneMatch(f -> f.getFileName().toString().startsWith("audit-export-"));
            } catch (java.io.IOException e) {
                return false;
            }
        });
        CliRun negative = CliRun.run(ApplianceCli::commandLine, "audit", "export", "--data-dir", data.toString(),
                "--socket", site.adminSocket().toString(), "--since", "-1");
        assertThat(negative.exitCode()).isEqualTo(2);
        assertThat(new AdminClient(site.adminSocket()).download("/v1/audit/export?since=x",
                java.nio.file.Files.createTempFile(data.getParent(), "x", ".jsonl")).status()).isEqualTo(400);
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
