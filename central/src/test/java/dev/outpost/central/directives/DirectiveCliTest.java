package dev.outpost.central.directives;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import dev.outpost.central.Harness;
import dev.outpost.central.SiteClient;
import dev.outpost.central.cli.CentralCli;
import dev.outpost.central.config.ConfigLoader;
import dev.outpost.testkit.CliRun;

/** {@code device revoke} and {@code policy push|assign|delete|list}, in-process against a running central. */
class DirectiveCliTest {

    @Test
    void fleetDecisionsFromTheCommandLine(@TempDir Path dir) throws Exception {
        Path yaml = dir.resolve("central.yaml");
        Files.writeString(yaml, String.join("\n", "trustDomain: " + Harness.TD, "dataDir: " + dir.resolve("data"),
                "server: {host: 127.0.0.1, port: 0}", "bundleEndpoint: {host: 127.0.0.1, port: 0}", "monitoring: {host: 127.0.0.1, port: 0}", ""));
        Files.write(dir.resolve("runtime.json"), DirectivesApiTest.runtimePolicy("/usr/bin/agent"));
        Files.writeString(dir.resolve("junk.json"), "{\"digests\": 5}");
        try (Harness h = Harness.start(ConfigLoader.load(yaml))) {
            JsonNode ban = json(yaml, "device", "revoke", "ab".repeat(32), "--reason", "stolen", "--json");
            assertThat(ban.get("version").asLong()).isEqualTo(1);
            assertThat(ban.get("kind").asText()).isEqualTo("device.ban");
            JsonNode push = json(yaml, "policy", "push", "line-runtime", "--kind", "runtime", "--file",
                    dir.resolve("runtime.json").toString(), "--json");
            assertThat(push.get("version").asLong()).isEqualTo(2);
            assertThat(push.get("data").has("content")).isFalse();
            assertThat(run(yaml, "policy", "assign", "line-runtime", "--label", "line-1").out())
                    .contains("assigned to label line-1").contains("directive 3");
            JsonNode list = json(yaml, "policy", "list", "--json");
            assertThat(list).hasSize(1);
            assertThat(list.get(0).get("labels").get(0).asText()).isEqualTo("line-1");
            assertThat(run(yaml, "policy", "list").out()).contains("line-runtime").contains("line-1");
            assertThat(json(yaml, "policy", "delete", "line-runtime", "--json").get("version").asLong()).isEqualTo(4);
            assertThat(json(yaml, "policy", "list", "--json")).isEmpty();

            for (String[] bad : new String[][] {
                    {"device", "revoke", "nothex", "--reason", "x"},
                    {"device", "revoke", "ab".repeat(32), "--reason", "again"},
                    {"device", "revoke", "cd".repeat(32)},
                    {"policy", "push", "p", "--kind", "runtime", "--file", dir.resolve("junk.json").toString()},
                    {"policy", "push", "p", "--kind", "runtime", "--file", dir.resolve("missing.json").toString()},
                    {"policy", "push", "p", "--kind", "kernel", "--file", dir.resolve("runtime.json").toString()},
                    {"policy", "assign", "nosuch", "--label", "x"},
                    {"policy", "delete", "nosuch"}}) {
                CliRun r = run(yaml, bad);
                assertThat(r.exitCode()).as(String.join(" ", bad) + ": " + r.out() + r.err()).isEqualTo(2);
                assertThat(r.err()).doesNotContain("\tat ");
            }
            assertThat(new DirectiveAdmin(h.services().db, h.clock).latest()).isEqualTo(4);
        }
    }

    private static JsonNode json(Path yaml, String... args) throws Exception {
        CliRun r = run(yaml, args);
        assertThat(r.exitCode()).as(r.err()).isZero();
        return SiteClient.JSON.readTree(r.out());
    }

    private static CliRun run(Path yaml, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--config", yaml.toString()));
        return CliRun.run(CentralCli::commandLine, all.toArray(new String[0]));
    }
}
