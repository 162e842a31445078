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

import dev.outpost.central.cli.CentralCli;
import dev.outpost.central.config.ConfigLoader;
import dev.outpost.spiffe.PemIo;
import dev.outpost.testkit.CliRun;
import dev.outpost.testkit.ProcessRunner;

/**
 * The CLI as an operator runs it: a separate process next to a running central on the default H2 store (H2's
 * AUTO_SERVER lets it in: add, list and a refusal run that way), and the rest of the commands in-process (each JVM
 * start costs seconds on a shared machine); --json everywhere, exit 0 on success and 2 with one "error:" line
 * otherwise.
 */
class CentralCliTest {

    @Test
    void operatorCommandsAgainstARunningCentral(@TempDir Path dir) throws Exception {
        Path yaml = dir.resolve("central.yaml");
        Files.writeString(yaml, String.join("\n",
                "trustDomain: " + Harness.TD,
                "dataDir: " + dir.resolve("data"),
                "server: {host: 127.0.0.1, port: 0}",
                "bundleEndpoint: {host: 127.0.0.1, port: 0}", "monitoring: {host: 127.0.0.1, port: 0}", ""));
        try (Harness h = Harness.start(ConfigLoader.load(yaml))) {
            ProcessRunner.Result add = cli(dir, yaml, "site", "add", "shop-9", "--token", "--token-ttl", "2h", "--json").assertSuccess();
            JsonNode added = SiteClient.JSON.readTree(add.stdout());
            assertThat(added.get("joinedBy").asText()).isEqualTo("token");
            String token = added.get("token").asText();
            // The running service sees what the CLI wrote: the token joins.
            assertThat(h.anonymous.post("/v1/join/token", Map.of("v", 1, "site", "shop-9", "token", token,
                    "csr", Csrs.plain(Csrs.ecKey()))).status()).isEqualTo(200);

            inProcess(yaml, "site", "add", "plant-1", "--ek-hash", "ab".repeat(32));
            JsonNode list = SiteClient.JSON.readTree(cli(dir, yaml, "site", "list", "--json").assertSuccess().stdout());
            assertThat(list).hasSize(2);
            assertThat(list.get(1).get("name").asText()).isEqualTo("shop-9");
            assertThat(list.get(1).get("state").asText()).isEqualTo("active");
            assertThat(inProcess(yaml, "site", "list")).contains("shop-9").contains("token");

            JsonNode shown = SiteClient.JSON.readTree(inProcess(yaml, "site", "show", "plant-1", "--json"));
            assertThat(shown.get("ekHash").asText()).isEqualTo("ab".repeat(32));

            JsonNode revoked = SiteClient.JSON.readTree(inProcess(yaml, "site", "revoke", "shop-9", "--reason", "closed", "--json"));
            assertThat(revoked.get("state").asText()).isEqualTo("revoked");

            String pem = inProcess(yaml, "bundle", "show", "--format", "pem");
            assertThat(PemIo.certificates(pem, 8)).containsExactlyElementsOf(h.services().ca.roots());
            JsonNode bundle = SiteClient.JSON.readTree(inProcess(yaml, "bundle", "show", "--format", "spiffe"));
            assertThat(bundle.get("spiffe_sequence").asLong()).isEqualTo(h.sequence());

            JsonNode ca = SiteClient.JSON.readTree(inProcess(yaml, "ca", "show", "--json"));
            assertThat(ca.get("selfSigned").asBoolean()).isTrue();
            assertThat(ca.get("trustDomain").asText()).isEqualTo(Harness.TD);

            inProcess(yaml, "federation", "add", "partner.example", "--url", "https://bundle.partner.example/", "--profile", "https_web");
            JsonNode feds = SiteClient.JSON.readTree(inProcess(yaml, "federation", "list", "--json"));
            assertThat(feds.get(0).get("trustDomain").asText()).isEqualTo("partner.example");
            inProcess(yaml, "federation", "remove", "partner.example");

            for (String f : new String[] {"central.mv.db", "h2.password", "ca/ca.key"}) {
                assertThat(java.nio.file.attribute.PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(dir.resolve("data").resolve(f)))).as(f).isEqualTo("rw-------");
            }

            ProcessRunner.Result refused = cli(dir, yaml, "site", "revoke", "nosuch", "--reason", "x");
            assertThat(refused.exitCode()).as(refused.toString()).isEqualTo(2);
            assertThat(refused.stderr().strip()).isEqualTo("error: no site nosuch");

            for (String[] bad : new String[][] {
                    {"site", "add", "Bad_Name"},
                    {"site", "add", "shop-9"},
                    {"federation", "add", "p.example", "--url", "http://plain/", "--profile", "https_web"},
                    {"federation", "add", "p.example", "--url", "https://p/", "--profile", "https_spiffe"},
                    {"ca", "init"}}) {
                List<String> args = new ArrayList<>(List.of(bad));
                args.addAll(List.of("--config", yaml.toString()));
                CliRun r = CliRun.run(CentralCli::commandLine, args.toArray(new String[0]));
                assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(2);
                assertThat(r.err().lines().filter(l -> l.startsWith("error: ")).count()).as(r.err()).isEqualTo(1);
                assertThat(r.err()).doesNotContain("\tat ");
            }
        }
    }

    private static String inProcess(Path yaml, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--config", yaml.toString()));
        CliRun r = CliRun.run(CentralCli::commandLine, all.toArray(new String[0]));
        assertThat(r.exitCode()).as(r.err()).isZero();
        return r.out();
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
