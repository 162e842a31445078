package dev.outpost.central.audittrail;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import dev.outpost.central.Harness;
import dev.outpost.central.SiteClient;
import dev.outpost.central.Sites;
import dev.outpost.central.cli.CentralCli;
import dev.outpost.central.config.ConfigLoader;
import dev.outpost.testkit.CliRun;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;

/** {@code events audit-chain} over what a site posted to central's API and central stored; then tampered in the DB. */
@ExtendWith(SwtpmExtension.class)
class AuditChainCliTest {

    @Test
    void aReceivedTrailVerifiesAndAnEditedStoredEventIsNamed(@TempDir Path dir, Swtpm swtpm) throws Exception {
        Path yaml = dir.resolve("central.yaml");
        Files.writeString(yaml, String.join("\n",
                "trustDomain: " + Harness.TD,
                "dataDir: " + dir.resolve("data"),
                "server: {host: 127.0.0.1, port: 0}",
                "bundleEndpoint: {host: 127.0.0.1, port: 0}", "monitoring: {host: 127.0.0.1, port: 0}", ""));
        try (Harness h = Harness.start(ConfigLoader.load(yaml)); SiteTrail t = new SiteTrail(swtpm.uri())) {
            Sites s = Sites.joinByToken(h, "plant-1");
            t.records(12, 4).checkpoint().records(3, 2).drop("routine", 5).drop("routine", 6);
            List<Map<String, Object>> events = new ArrayList<>();
            for (SiteTrail.Event e : t.events()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("seq", events.size() + 1);
                m.put("at", "2026-12-06T10:00:00Z");
                m.put("kind", e.kind());
                m.put("data", e.data());
                events.add(m);
            }
            Map<String, Object> batch = new LinkedHashMap<>();
            batch.put("v", 1);
            batch.put("from", 1);
            batch.put("through", events.size());
            batch.put("events", events);
            SiteClient.Response posted = s.client().post("/v1/site/events", batch);
            assertThat(posted.status()).as(String.valueOf(posted.body())).isEqualTo(200);

            CliRun ok = run(yaml, "events", "audit-chain", "--site", "plant-1", "--json");
            assertThat(ok.exitCode()).as(ok.out() + ok.err()).isZero();
            JsonNode report = SiteClient.JSON.readTree(ok.out());
            assertThat(report.get("ok").asBoolean()).isTrue();
            assertThat(report.get("checkpoints").asInt()).isEqualTo(1);
            assertThat(report.get("chains").get(0).get("gaps").asLong()).isEqualTo(2);
            assertThat(run(yaml, "events", "audit-chain", "--site", "plant-1").out())
                    .contains("audit chain: verified").contains("coalesced or not yet received");

            // someone with central's database edits a lasting record the checkpoint anchored
            int edited = h.services().db.inTransaction(c -> c.createStatement().executeUpdate(
                    "UPDATE site_events SET data = REPLACE(data, 'lasting 2', 'lasting two') WHERE site = 'plant-1' "
                            + "AND kind = 'audit' AND data LIKE '%\"lasting 2\"%'"));
            assertThat(edited).isEqualTo(1);
            CliRun bad = run(yaml, "events", "audit-chain", "--site", "plant-1");
            assertThat(bad.exitCode()).isEqualTo(1);
            assertThat(bad.out()).contains("FAILED").contains("PROBLEM MODIFIED (lasting)").contains("record seq 3");

            CliRun unknown = run(yaml, "events", "audit-chain", "--site", "nowhere");
            assertThat(unknown.exitCode()).isEqualTo(2);
            assertThat(unknown.err()).contains("no site nowhere");
        }
    }

    private static CliRun run(Path yaml, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--config", yaml.toString()));
        return CliRun.run(CentralCli::commandLine, all.toArray(new String[0]));
    }
}
