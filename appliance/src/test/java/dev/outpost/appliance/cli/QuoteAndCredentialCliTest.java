package dev.outpost.appliance.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.agent.cli.AgentCli;
import dev.outpost.testkit.CliRun;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;

/** The two launchers and tpm2-tools, end to end on one swtpm: what one writes, the others accept. */
@ExtendWith(SwtpmExtension.class)
class QuoteAndCredentialCliTest {
    private static final HexFormat HEX = HexFormat.of();
    private static final SecureRandom RANDOM = new SecureRandom();

    @Test
    void agentQuoteVerifiesWithApplianceAndTpm2Checkquote(Swtpm swtpm, @TempDir Path dir) throws Exception {
        String nonce = HEX.formatHex(random(16));
        Path out = dir.resolve("out");
        CliRun quote = CliRun.run(AgentCli::commandLine, "tpm", "quote", "--tpm", swtpm.uri(), "--state",
                dir.resolve("state").toString(), "--nonce", nonce, "--pcrs", "sha256:0,1,2,10+sha1:10", "--ak", "ecc",
                "--out", out.toString());
        assertThat(quote.exitCode()).as(quote.err()).isZero();

        CliRun ok = verify(out, nonce, "--ek", out.resolve("ek.pub").toString(), "--json");
        assertThat(ok.exitCode()).as(ok.out() + ok.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(ok.out());
        assertThat(j.get("valid").asBoolean()).isTrue();
        assertThat(j.get("signerChecked").asBoolean()).isTrue();
        assertThat(j.get("akAttributes").asText()).isEqualTo("ok");

        assertThat(swtpm.tpm2(out, "tpm2_checkquote", "-u", "ak.pub", "-m", "quote.msg", "-s", "quote.sig",
                "-f", "quote.pcrs", "-g", "sha256", "-q", nonce).exitCode()).isZero();

        CliRun wrongNonce = verify(out, HEX.formatHex(random(16)));
        assertThat(wrongNonce.exitCode()).isEqualTo(1);
        assertThat(wrongNonce.out()).contains("NONCE_MISMATCH");

        CliRun narrowed = verify(out, nonce, "--pcr-list", "sha256:0,1,2,10");
        assertThat(narrowed.exitCode()).isEqualTo(1);
        assertThat(narrowed.out()).contains("SELECTION_MISMATCH");

        // A second quote reuses the AK kept in the state directory.
        byte[] akBefore = Files.readAllBytes(out.resolve("ak.pub"));
        CliRun again = CliRun.run(AgentCli::commandLine, "tpm", "quote", "--tpm", swtpm.uri(), "--state",
                dir.resolve("state").toString(), "--nonce", nonce, "--out", out.toString(), "--json");
        assertThat(again.exitCode()).as(again.err()).isZero();
        assertThat(Files.readAllBytes(out.resolve("ak.pub"))).isEqualTo(akBefore);
        JsonNode q = new ObjectMapper().readTree(again.out());
        assertThat(q.path("deviceId").asText()).matches("[0-9a-f]{64}");
        assertThat(q.path("nonce").asText()).isEqualTo(nonce);
        assertThat(q.path("pcrSelection").asText()).isEqualTo("sha256:0,1,2,3,4,5,6,7,8,9,10");
        assertThat(q.path("pcrs").path("sha256").size()).isEqualTo(11);
        assertThat(q.path("pcrs").path("sha256").path("10").asText()).matches("[0-9a-f]{64}");
        assertThat(q.path("files").path("quote.msg").asText()).isEqualTo(out.resolve("quote.msg").toString());

        Files.write(out.resolve("garbage"), random(100));
        CliRun unusable = CliRun.run(ApplianceCli::commandLine, "verify", "quote", "--ak", out.resolve("garbage").toString(),
                "--msg", out.resolve("quote.msg").toString(), "--sig", out.resolve("quote.sig").toString(),
                "--pcrs", out.resolve("quote.pcrs").toString(), "--nonce", nonce);
        assertThat(unusable.exitCode()).isEqualTo(2);
        assertThat(unusable.err()).startsWith("error: ").doesNotContain("Exception");
    }

    private static CliRun verify(Path out, String nonce, String... extra) {
        String[] base = {"verify", "quote", "--ak", out.resolve("ak.pub").toString(), "--msg",
            out.resolve("quote.msg").toString(), "--sig", out.resolve("quote.sig").toString(), "--pcrs",
            out.resolve("quote.pcrs").toString(), "--nonce", nonce};
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return CliRun.run(ApplianceCli::commandLine, args);
    }

    @Test
    void makeCredentialFromAnEkPemIsActivatedByTpm2Tools(Swtpm swtpm, @TempDir Path dir) throws Exception {
        for (String alg : new String[] {"rsa", "ecc"}) {
            swtpm.tpm2(dir, "tpm2_createek", "-c", "ek.ctx", "-G", alg, "-u", "ek.pem", "-f", "pem").assertSuccess();
            swtpm.tpm2(dir, "tpm2_createak", "-C", "ek.ctx", "-c", "ak.ctx", "-G", "rsa", "-g", "sha256",
                    "-s", "rsassa", "-u", "ak.pub", "-n", "ak.name").assertSuccess();
            String secret = HEX.formatHex(random(24));
            CliRun make = CliRun.run(ApplianceCli::commandLine, "tpm", "make-credential", "--ek",
                    dir.resolve("ek.pem").toString(), "--ak-name", HEX.formatHex(Files.readAllBytes(dir.resolve("ak.name"))),
                    "--secret", secret, "--out", dir.resolve("cred.bin").toString());
            assertThat(make.exitCode()).as(make.err()).isZero();

            swtpm.tpm2(dir, "tpm2_startauthsession", "--policy-session", "-S", "session.ctx").assertSuccess();
            swtpm.tpm2(dir, "tpm2_policysecret", "-S", "session.ctx", "-c", "e").assertSuccess();
            swtpm.tpm2(dir, "tpm2_activatecredential", "-c", "ak.ctx", "-C", "ek.ctx", "-i", "cred.bin",
                    "-o", "secret.out", "-P", "session:session.ctx").assertSuccess();
            swtpm.tpm2(dir, "tpm2_flushcontext", "session.ctx");
            assertThat(HEX.formatHex(Files.readAllBytes(dir.resolve("secret.out")))).isEqualTo(secret);
        }
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }
}
