package dev.outpost.central;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import dev.outpost.central.config.ConfigLoader;
import dev.outpost.spiffe.PemIo;
import dev.outpost.testkit.ProcessRunner;

/**
 * The CLI as an operator runs it: a separate process next to a running central on the default H2 store (H2's
 * AUTO_SERVER lets it in), --json everywhere, exit 0 on success and 2 with one "error:" line otherwise.
 */
class CentralCliTest {

    @Test
    void operatorCommandsAgainstARunningCentral(@TempDir Path dir) throws Exception {
        Path yaml = dir.resolve("central.yaml");
        Files.writeString(yaml, String.join("\n",
                "trustDomain: " + Harness.TD,
                "dataDir: " + dir.resolve("data"),
                "server: {host: 127.0.0.1, port: 0}",
                "bundleEndpoint: {host: 127.0.0.1, port: 0}", ""));
        try (Harness h = Harness.start(ConfigLoader.load(yaml))) {
            ProcessRunner.Result add = cli(dir, yaml, "site", "add", "shop-9", "--token", "--token-ttl", "2h", "--json").assertSuccess();
            JsonNode added = SiteClient.JSON.readTree(add.stdout());
            assertThat(added.get("joinedBy").asText()).isEqualTo("token");
            String token = added.get("token").asText();
            // The running service sees what the CLI wrote: the token joins.
            assertThat(h.anonymous.post("/v1/join/token", Map.of("v", 1, "site", "shop-9", "token", token,
                    "csr", Csrs.plain(Csrs.ecKey()))).status()).isEqualTo(200);

            cli(dir, yaml, "site", "add", "plant-1", "--ek-hash", "ab".repeat(32)).assertSuccess();
            JsonNode list = SiteClient.JSON.readTree(cli(dir, yaml, "site", "list", "--json").assertSuccess().stdout());
            assertThat(list).hasSize(2);
            assertThat(list.get(1).get("name").asText()).isEqualTo("shop-9");
            assertThat(list.get(1).get("state").asText()).isEqualTo("active");
            assertThat(cli(dir, yaml, "site", "list").assertSuccess().stdout()).contains("shop-9").contains("token");

            JsonNode shown = SiteClient.JSON.readTree(cli(dir, yaml, "site", "show", "plant-1", "--json").assertSuccess().stdout());
            assertThat(shown.get("ekHash").asText()).isEqualTo("ab".repeat(32));

            JsonNode revoked = SiteClient.JSON.readTree(cli(dir, yaml, "site", "revoke", "shop-9", "--reason", "closed", "--json")
                    .assertSuccess().stdout());
            assertThat(revoked.get("state").asText()).isEqualTo("revoked");

            String pem = cli(dir, yaml, "bundle", "show", "--format", "pem").assertSuccess().stdout();
            assertThat(PemIo.certificates(pem, 8)).containsExactlyElementsOf(h.services().ca.roots());
            JsonNode bundle = SiteClient.JSON.readTree(cli(dir, yaml, "bundle", "show", "--format", "spiffe").assertSuccess().stdout());
            assertThat(bundle.get("spiffe_sequence").asLong()).isEqualTo(h.sequence());

            JsonNode ca = SiteClient.JSON.readTree(cli(dir, yaml, "ca", "show", "--json").assertSuccess().stdout());
            assertThat(ca.get("selfSigned").asBoolean()).isTrue();
            assertThat(ca.get("trustDomain").asText()).isEqualTo(Harness.TD);

            cli(dir, yaml, "federation", "add", "partner.example", "--url", "https://bundle.partner.example/", "--profile", "https_web")
                    .assertSuccess();
            JsonNode feds = SiteClient.JSON.readTree(cli(dir, yaml, "federation", "list", "--json").assertSuccess().stdout());
            assertThat(feds.get(0).get("trustDomain").asText()).isEqualTo("partner.example");
            cli(dir, yaml, "federation", "remove", "partner.example").assertSuccess();

            for (String f : new String[] {"central.mv.db", "h2.password", "ca/ca.key"}) {
                assertThat(java.nio.file.attribute.PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(dir.resolve("data").resolve(f)))).as(f).isEqualTo("rw-------");
            }

            for (String[] bad : new String[][] {
                    {"site", "revoke", "nosuch", "--reason", "x"},
                    {"site", "add", "Bad_Name"},
                    {"site", "add", "shop-9"},
                    {"federation", "add", "p.example", "--url", "http://plain/", "--profile", "https_web"},
                    {"federation", "add", "p.example", "--url", "https://p/", "--profile", "https_spiffe"},
                    {"ca", "init"}}) {
                ProcessRunner.Result r = cli(dir, yaml, bad);
                assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
                assertThat(r.stderr().lines().filter(l -> l.startsWith("error: ")).count()).as(r.toString()).isEqualTo(1);
                assertThat(r.stderr()).doesNotContain("\tat ");
            }
        }
    }

    private static ProcessRunner.Result cli(Path dir, Path yaml, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "-Dlogback.configurationFile=logback-test.xml",
                "dev.outpost.central.cli.CentralCli"));
        cmd.addAll(List.of(args));
        cmd.add("--config");
        cmd.add(yaml.toString());
        return ProcessRunner.run(cmd, dir, Map.of(), 120);
    }
}
