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
import dev.outpost.spiffe.SpiffeJwks;
import dev.outpost.testkit.CliRun;
import dev.outpost.testkit.ProcessRunner;

/**
 * Central as an intermediate under an offline root made with openssl: `ca import` checks what it is given, and
 * site CAs then chain site CA → central's intermediate → offline root, which is what the bundle anchors on.
 */
class CaImportTest {

    @Test
    void importAnIntermediateAndSignUnderIt(@TempDir Path dir) throws Exception {
        openssl(dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "root.key");
        openssl(dir, "req", "-x509", "-new", "-key", "root.key", "-subj", "/O=Corp/CN=Offline Root", "-days", "3650",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                "-addext", "subjectAltName=URI:spiffe://" + Harness.TD, "-out", "root.pem");
        openssl(dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "inter.key");
        intermediate(dir, "inter", "pathlen:1", Harness.TD);
        intermediate(dir, "flat", "pathlen:0", Harness.TD);
        intermediate(dir, "other", "pathlen:1", "other.example");

        Path yaml = dir.resolve("central.yaml");
        Files.writeString(yaml, "trustDomain: " + Harness.TD + "\ndataDir: " + dir.resolve("data")
                + "\nserver: {host: 127.0.0.1, port: 0}\nbundleEndpoint: {host: 127.0.0.1, port: 0}\nmonitoring: {host: 127.0.0.1, port: 0}\n");

        refused(dir, yaml, "inter.pem", "root.key", "root.pem", "not the key");
        refused(dir, yaml, "inter.pem", "inter.key", "inter.pem", "end with the (self-signed) root");
        refused(dir, yaml, "flat.pem", "inter.key", "root.pem", "pathLen 0");
        refused(dir, yaml, "other.pem", "inter.key", "root.pem", "not spiffe://" + Harness.TD);

        CliRun ok = CliRun.run(CentralCli::commandLine, "ca", "import", "--config", yaml.toString(), "--cert", p(dir, "inter.pem"),
                "--key", p(dir, "inter.key"), "--chain", p(dir, "root.pem"), "--json");
        assertThat(ok.exitCode()).as(ok.err()).isZero();
        assertThat(SiteClient.JSON.readTree(ok.out()).get("selfSigned").asBoolean()).isFalse();

        try (Harness h = Harness.start(ConfigLoader.load(yaml))) {
            Sites s = Sites.joinByToken(h, "site-x");
            SiteClient.Response r = s.signSiteCa(Csrs.ecKey());
            assertThat(r.status()).isEqualTo(200);
            assertThat(PemIo.certificates(r.body().get("chain").asText(), 4))
                    .containsExactlyElementsOf(PemIo.certificates(Files.readString(dir.resolve("inter.pem")), 1));
            assertThat(PemIo.certificates(r.body().get("trustBundle").asText(), 4))
                    .containsExactlyElementsOf(PemIo.certificates(Files.readString(dir.resolve("root.pem")), 1));
            Files.writeString(dir.resolve("site.pem"), r.body().get("certificate").asText());
            Files.writeString(dir.resolve("cred.pem"), s.credentialPem());
            assertThat(openssl(dir, "verify", "-CAfile", "root.pem", "-untrusted", "inter.pem", "site.pem").stdout()).contains("OK");
            // The credential chain carries the intermediate (leaf first, no root).
            assertThat(PemIo.certificates(s.credentialPem(), 4)).hasSize(2);
            openssl(dir, "verify", "-CAfile", "root.pem", "-untrusted", "cred.pem", "cred.pem");

            // The file flow of an air-gapped site (registered, never joined online): the CSR made with openssl.
            h.services().admin.add("island", null, null);
            openssl(dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "island.key");
            openssl(dir, "req", "-new", "-key", "island.key", "-subj", "/CN=island", "-out", "island.csr");
            CliRun signed = CliRun.run(CentralCli::commandLine, "site", "sign-ca", "island", "--config", yaml.toString(),
                    "--csr", p(dir, "island.csr"), "--out", p(dir, "island.pem"), "--chain-out", p(dir, "island-chain.pem"), "--json");
            assertThat(signed.exitCode()).as(signed.err()).isZero();
            String islandText = openssl(dir, "x509", "-in", "island.pem", "-noout", "-text").stdout();
            assertThat(islandText).contains("CA:TRUE, pathlen:0").contains("CN = Outpost site CA island");
            // The chain file ends at the root the devices will trust: openssl verifies with it alone.
            assertThat(openssl(dir, "verify", "-CAfile", "island-chain.pem", "island.pem").stdout()).contains("OK");
            openssl(dir, "req", "-new", "-key", "island.key", "-subj", "/CN=island", "-addext", "basicConstraints=critical,CA:TRUE",
                    "-out", "asking.csr");
            CliRun askingCa = CliRun.run(CentralCli::commandLine, "site", "sign-ca", "island", "--config", yaml.toString(),
                    "--csr", p(dir, "asking.csr"), "--out", p(dir, "x.pem"), "--chain-out", p(dir, "x-chain.pem"));
            assertThat(askingCa.exitCode()).isEqualTo(2);
            assertThat(askingCa.err()).contains("basicConstraints");
            assertThat(dir.resolve("x.pem")).doesNotExist();

            JsonNode bundle = s.client().get("/v1/site/bundle", null).body().get("bundle");
            assertThat(SpiffeJwks.parse(bundle.toString()).x509Authorities())
                    .contains(PemIo.certificates(Files.readString(dir.resolve("root.pem")), 1).get(0))
                    .contains(PemIo.certificates(Files.readString(dir.resolve("island.pem")), 1).get(0))
                    .hasSize(3);
        }
    }

    private static void intermediate(Path dir, String name, String pathlen, String td) throws Exception {
        Files.writeString(dir.resolve(name + ".ext"), "basicConstraints=critical,CA:TRUE," + pathlen
                + "\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectAltName=URI:spiffe://" + td + "\n");
        openssl(dir, "req", "-new", "-key", "inter.key", "-subj", "/O=Corp/CN=Central " + name, "-out", name + ".csr");
        openssl(dir, "x509", "-req", "-in", name + ".csr", "-CA", "root.pem", "-CAkey", "root.key", "-CAcreateserial",
                "-days", "365", "-extfile", name + ".ext", "-out", name + ".pem");
    }

    private static void refused(Path dir, Path yaml, String cert, String key, String chain, String why) {
        CliRun r = CliRun.run(CentralCli::commandLine, "ca", "import", "--config", yaml.toString(), "--cert", p(dir, cert),
                "--key", p(dir, key), "--chain", p(dir, chain));
        assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(2);
        assertThat(r.err()).contains(why);
        assertThat(dir.resolve("data").resolve("ca").resolve("ca.key")).doesNotExist();
    }

    private static String p(Path dir, String f) {
        return dir.resolve(f).toString();
    }

    private static ProcessRunner.Result openssl(Path dir, String... args) {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        return ProcessRunner.run(cmd, dir, Map.of(), 60).assertSuccess();
    }
}
