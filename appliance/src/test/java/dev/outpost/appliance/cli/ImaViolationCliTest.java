package dev.outpost.appliance.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.ima.list.Hex;
import dev.outpost.ima.list.ImaEntry;
import dev.outpost.ima.list.ImaListWriter;
import dev.outpost.ima.replay.PcrReplay;
import dev.outpost.ima.replay.ReplayVariant;
import dev.outpost.tpm.HashAlg;

/** `verify ima` on a list with violations: counted and shown, failing only with --fail-on-violations. */
class ImaViolationCliTest {
    private static final HashAlg A = HashAlg.SHA256;

    @TempDir
    Path dir;

    private final List<ImaEntry> entries = List.of(
            ImaListWriter.imaNg(0, A, A.digest("agg".getBytes(StandardCharsets.UTF_8)), "boot_aggregate"),
            ImaListWriter.imaNg(1, A, A.digest("sshd".getBytes(StandardCharsets.UTF_8)), "/usr/sbin/sshd"),
            ImaListWriter.violation(2, A, "/var/log/journal/system.journal"),
            ImaListWriter.violation(3, A, "/var/lib/db/data.db"));

    /** A policy listing the two measurements only: the violations' paths are unknown to it. */
    private Path policy() throws Exception {
        StringBuilder d = new StringBuilder();
        for (ImaEntry e : entries) {
            if (!e.isViolation()) {
                d.append(d.length() == 0 ? "" : ",").append('"').append(e.path()).append("\":[\"")
                        .append(Hex.encode(e.digest())).append("\"]");
            }
        }
        return Files.writeString(dir.resolve("policy.json"), "{\"meta\":{\"version\":1,\"generator\":1},\"release\":0,"
                + "\"digests\":{" + d + "},\"excludes\":[],\"keyrings\":{},\"ima\":{\"ignored_keyrings\":[],"
                + "\"log_hash_alg\":\"sha1\",\"dm_policy\":null},\"ima-buf\":{},\"verification-keys\":\"\"}");
    }

    private Path asciiLog() throws Exception {
        StringWriter w = new StringWriter();
        for (ImaEntry e : entries) {
            ImaListWriter.writeAscii(w, e);
        }
        return Files.writeString(dir.resolve("ascii_runtime_measurements"), w.toString());
    }

    private String pcr() {
        PcrReplay r = new PcrReplay(HashAlg.SHA1, HashAlg.SHA1);
        entries.forEach(r::extend);
        return Hex.encode(r.value(ReplayVariant.NATIVE));
    }

    @Test
    void violationsAreCountedAndPassByDefault() throws Exception {
        String[] base = {"verify", "ima", "--policy", policy().toString(), "--log", asciiLog().toString(), "--pcr", pcr()};
        ImaCliTest.Run text = ImaCliTest.run(base);
        assertThat(text.exit()).as(text.out() + text.err()).isZero();
        assertThat(text.out()).startsWith("PASS: 4 entries read, 4 matched, 2 violations (counted, not judged)");

        ImaCliTest.Run json = ImaCliTest.run(concat(base, "--json"));
        assertThat(json.exit()).isZero();
        JsonNode o = new ObjectMapper().readTree(json.out());
        assertThat(o.path("verdict").asText()).isEqualTo("pass");
        assertThat(o.path("violations").asLong()).isEqualTo(2);
        assertThat(o.path("violationHandling").asText()).isEqualTo("count");
        assertThat(o.path("failures")).isEmpty();
    }

    @Test
    void failOnViolationsFailsEachWithTheTomtouEvent() throws Exception {
        String[] base = {"verify", "ima", "--policy", policy().toString(), "--log", asciiLog().toString(), "--pcr", pcr(),
            "--fail-on-violations"};
        ImaCliTest.Run text = ImaCliTest.run(base);
        assertThat(text.exit()).isEqualTo(VerifyImaCommand.EXIT_FAIL);
        assertThat(text.out()).startsWith("FAIL: 4 entries read, 4 matched, 2 violations (failing)")
                .contains("ima.validation.tomtou entry 2 /var/log/journal/system.journal")
                .contains("ima.validation.tomtou entry 3 /var/lib/db/data.db")
                .doesNotContain("not_in_allowlist");

        ImaCliTest.Run json = ImaCliTest.run(concat(base, "--json"));
        assertThat(json.exit()).isEqualTo(VerifyImaCommand.EXIT_FAIL);
        JsonNode o = new ObjectMapper().readTree(json.out());
        assertThat(o.path("verdict").asText()).isEqualTo("fail");
        assertThat(o.path("violations").asLong()).isEqualTo(2);
        assertThat(o.path("violationHandling").asText()).isEqualTo("fail");
        assertThat(o.path("failures").findValuesAsText("eventId")).containsExactly("ima.validation.tomtou",
                "ima.validation.tomtou");
    }

    private static String[] concat(String[] a, String b) {
        String[] c = java.util.Arrays.copyOf(a, a.length + 1);
        c[a.length] = b;
        return c;
    }
}
