package dev.outpost.central.events;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import dev.outpost.central.Harness;
import dev.outpost.central.SiteClient;
import dev.outpost.central.Sites;
import dev.outpost.central.cli.CentralCli;
import dev.outpost.central.config.ConfigLoader;
import dev.outpost.testkit.CliRun;

/** The fleet view as an operator reads it: device list/show, events, site list, each with --json. */
class FleetCliTest {
    static final String DEV = "b".repeat(64);

    @Test
    void theFleetAsSitesReportedIt(@TempDir Path dir) throws Exception {
        Path yaml = dir.resolve("central.yaml");
        Files.writeString(yaml, String.join("\n",
                "trustDomain: " + Harness.TD,
                "dataDir: " + dir.resolve("data"),
                "server: {host: 127.0.0.1, port: 0}",
                "bundleEndpoint: {host: 127.0.0.1, port: 0}", "monitoring: {host: 127.0.0.1, port: 0}", ""));
        try (Harness h = Harness.start(ConfigLoader.load(yaml))) {
            Sites s = Sites.joinByToken(h, "plant-1");
            Sites.joinByToken(h, "plant-2");
            SiteClient.Response r = s.client().post("/v1/site/events", SiteEventsTest.batch(1, 4, List.of(
                    SiteEventsTest.event(1, "device.enrolled", Map.of("deviceId", DEV, "spiffeId", "spiffe://td/d", "ekHash", DEV,
                            "via", "credential-activation")),
                    SiteEventsTest.event(2, "device.state", Map.of("deviceId", DEV, "state", "failed", "previous", "trusted",
                            "reasons", List.of("runtime_policy_hash: /usr/bin/app"))),
                    SiteEventsTest.event(3, "device.revoked", Map.of("deviceId", DEV, "reason", "attestation failed")),
                    SiteEventsTest.event(4, "site.summary", Map.of("devices", Map.of("failed", 1), "caNotAfter",
                            "2027-03-01T00:00:00Z", "backlog", Map.of("rows", 7, "bytes", 900, "coalesced", 0))))));
            assertThat(r.status()).as(String.valueOf(r.body())).isEqualTo(200);

            JsonNode failed = json(yaml, "device", "list", "--state", "failed", "--json");
            assertThat(failed).hasSize(1);
            assertThat(failed.get(0).get("site").asText()).isEqualTo("plant-1");
            assertThat(failed.get(0).get("deviceId").asText()).isEqualTo(DEV);
            assertThat(failed.get(0).get("reasons").get(0).asText()).contains("runtime_policy_hash");
            assertThat(failed.get(0).get("revokeReason").asText()).isEqualTo("attestation failed");
            assertThat(json(yaml, "device", "list", "--site", "plant-2", "--json")).isEmpty();
            assertThat(run(yaml, "device", "list")).contains(DEV).contains("failed");

            JsonNode shown = json(yaml, "device", "show", DEV, "--json");
            assertThat(shown.get("events")).extracting(e -> e.get("kind").asText())
                    .containsExactly("device.enrolled", "device.state", "device.revoked");

            JsonNode events = json(yaml, "events", "--site", "plant-1", "--json");
            assertThat(events).hasSize(4);
            assertThat(json(yaml, "events", "--since", "2026-12-06T10:00:03Z", "--json")).hasSize(2);

            JsonNode sites = json(yaml, "site", "list", "--json");
            JsonNode plant1 = sites.get(0);
            assertThat(plant1.get("name").asText()).isEqualTo("plant-1");
            assertThat(plant1.get("ackedThrough").asLong()).isEqualTo(4);
            assertThat(plant1.get("lastContact").isNull()).isFalse();
            assertThat(plant1.get("backlogRows").asLong()).isEqualTo(7);
            assertThat(plant1.get("caNotAfter").asText()).isEqualTo("2027-03-01T00:00:00Z");
            assertThat(plant1.get("devices").get("failed").asLong()).isEqualTo(1);
            assertThat(sites.get(1).get("lastContact").isNull()).isTrue();
            assertThat(json(yaml, "site", "show", "plant-1", "--json").get("ackedThrough").asLong()).isEqualTo(4);

            CliRun bad = CliRun.run(CentralCli::commandLine, "events", "--since", "yesterday", "--config", yaml.toString());
            assertThat(bad.exitCode()).isEqualTo(2);
            assertThat(bad.err()).contains("RFC 3339");
        }
    }

    private static JsonNode json(Path yaml, String... args) throws Exception {
        return SiteClient.JSON.readTree(run(yaml, args));
    }

    private static String run(Path yaml, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--config", yaml.toString()));
        CliRun r = CliRun.run(CentralCli::commandLine, all.toArray(new String[0]));
        assertThat(r.exitCode()).as(r.err()).isZero();
        return r.out();
    }
}
