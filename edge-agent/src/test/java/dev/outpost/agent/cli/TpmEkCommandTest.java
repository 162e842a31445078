package dev.outpost.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.testkit.CliRun;
import dev.outpost.testkit.LocalEkCa;
import dev.outpost.testkit.ProcessRunner;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.testkit.Tools;
import dev.outpost.testkit.UnixSocket;

@ExtendWith(SwtpmExtension.class)
class TpmEkCommandTest {

    @Test
    void ekJsonMatchesOpensslAndTheCertificateChainsToTheManufacturer(Swtpm swtpm, @TempDir Path dir) throws Exception {
        for (String type : List.of("rsa2048", "p384")) {
            CliRun run = CliRun.run(AgentCli::commandLine, "tpm", "ek", "--tpm", swtpm.uri(), "--type", type, "--json");
            assertThat(run.exitCode()).as(run.err()).isZero();
            JsonNode ek = new ObjectMapper().readTree(run.out());
            Files.writeString(dir.resolve("ek.pem"), ek.get("publicKeyPem").asText());
            Files.writeString(dir.resolve("cert.pem"), ek.get("certificatePem").asText());
            assertThat(ek.get("certificateMatchesKey").asBoolean()).isTrue();

            // The device id is the SHA-256 of the DER SubjectPublicKeyInfo, as openssl writes it.
            ProcessRunner.Result der = ProcessRunner.run(List.of(Tools.require("openssl").toString(), "pkey", "-pubin",
                    "-in", "ek.pem", "-outform", "DER", "-out", "ek.der"), dir, Map.of(), 30).assertSuccess();
            assertThat(der.exitCode()).isZero();
            byte[] sha = java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(dir.resolve("ek.der")));
            assertThat(ek.get("deviceId").asText()).isEqualTo(HexFormat.of().formatHex(sha));

            ProcessRunner.Result verify = ProcessRunner.run(List.of(Tools.require("openssl").toString(), "verify",
                    "-partial_chain", "-CAfile", LocalEkCa.get().rootCertificate().toString(),
                    "-untrusted", LocalEkCa.get().issuerCertificate().toString(), "cert.pem"), dir, Map.of(), 30);
            assertThat(verify.stdout()).as(verify.toString()).contains("cert.pem: OK");
        }
    }

    @Test
    void worksOverAUnixSocketToo(@UnixSocket Swtpm swtpm) {
        CliRun run = CliRun.run(AgentCli::commandLine, "tpm", "ek", "--tpm", swtpm.uri());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("deviceId: ").contains("RSA 2048");
    }

    @Test
    void badUriIsAClearError() {
        CliRun run = CliRun.run(AgentCli::commandLine, "tpm", "ek", "--tpm", "tcp://nowhere");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).startsWith("error: TPM URI tcp://nowhere").doesNotContain("Exception");
        assertThat(new String(run.err().getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8).lines()).hasSize(1);
    }
}
