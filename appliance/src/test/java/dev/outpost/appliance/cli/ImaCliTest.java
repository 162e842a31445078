package dev.outpost.appliance.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.ima.list.Hex;
import dev.outpost.ima.list.ImaEntry;
import dev.outpost.ima.list.ImaListWriter;
import dev.outpost.ima.policy.PolicyLoader;
import dev.outpost.ima.policy.RuntimePolicy;
import dev.outpost.ima.replay.PcrReplay;
import dev.outpost.ima.replay.ReplayVariant;
import dev.outpost.tpm.HashAlg;
import picocli.CommandLine;

class ImaCliTest {
    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {
    }

    static Run run(String... args) {
        // Through main's path: `verify ima` runs standalone, without the rest of the command tree.
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = ApplianceCli.execute(args, cl -> {
            cl.setOut(new PrintWriter(out));
            cl.setErr(new PrintWriter(err));
        });
        return new Run(code, out.toString(), err.toString());
    }

    static Run runInTree(String... args) {
        CommandLine cl = ApplianceCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        return new Run(cl.execute(args), out.toString(), err.toString());
    }

    @Test
    void standaloneCommandsBehaveAsInTheTree() {
        for (String leaf : List.of("ima", "boot", "quote")) {
            Run alone = run("verify", leaf, "--help");
            Run tree = runInTree("verify", leaf, "--help");
            assertThat(alone.exit()).isZero();
            assertThat(alone.out()).startsWith("Usage: outpost-appliance verify " + leaf + " ").isEqualTo(tree.out());
            Run badAlone = run("verify", leaf, "--no-such-option");
            Run badTree = runInTree("verify", leaf, "--no-such-option");
            assertThat(badAlone.exit()).isEqualTo(badTree.exit()).isEqualTo(2);
            assertThat(badAlone.err()).isEqualTo(badTree.err());
        }
    }

    private List<ImaEntry> entries() {
        List<ImaEntry> l = new ArrayList<>();
        HashAlg a = HashAlg.SHA256;
        l.add(ImaListWriter.imaNg(0, a, a.digest("agg".getBytes()), "boot_aggregate"));
        for (int i = 1; i < 6; i++) {
            l.add(ImaListWriter.imaNg(i, a, a.digest(("f" + i).getBytes()), "/usr/bin/f" + i));
        }
        return l;
    }

    private Path binaryLog(List<ImaEntry> l) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (ImaEntry e : l) {
            ImaListWriter.writeBinary(out, e);
        }
        return Files.write(dir.resolve("binary_runtime_measurements"), out.toByteArray());
    }

    private static String sha1Pcr(List<ImaEntry> l) {
        PcrReplay r = new PcrReplay(HashAlg.SHA1, HashAlg.SHA1);
        l.forEach(r::extend);
        return Hex.encode(r.value(ReplayVariant.NATIVE));
    }

    @Test
    void createThenVerifyPassesAndUnknownFileFails() throws Exception {
        List<ImaEntry> l = entries();
        Path log = binaryLog(l);
        Path policy = dir.resolve("policy.json");
        Run c = run("policy", "create", "runtime", "--ima-log", log.toString(), "--exclude", "/tmp/.*",
                "--out", policy.toString());
        assertThat(c.exit()).as(c.err()).isZero();
        RuntimePolicy p = PolicyLoader.unsigned().load(policy);
        assertThat(p.digests()).hasSize(6);
        assertThat(p.excludes()).containsExactly("/tmp/.*");

        Run ok = run("verify", "ima", "--policy", policy.toString(), "--log", log.toString(), "--pcr", sha1Pcr(l),
                "--json");
        assertThat(ok.exit()).as(ok.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(ok.out());
        assertThat(j.get("verdict").asText()).isEqualTo("pass");
        assertThat(j.get("format").asText()).isEqualTo("binary");
        assertThat(j.get("entriesRead").asLong()).isEqualTo(6);
        assertThat(j.get("entriesMatched").asLong()).isEqualTo(6);
        assertThat(j.get("replayedPcr").asText()).isEqualTo(sha1Pcr(l));

        // The quote lags by two entries: the prefix is checked and the verdict still passes.
        Run lag = run("verify", "ima", "--policy", policy.toString(), "--log", log.toString(), "--pcr",
                sha1Pcr(l.subList(0, 4)), "--json");
        assertThat(new ObjectMapper().readTree(lag.out()).get("entriesMatched").asLong()).isEqualTo(4);

        List<ImaEntry> more = new ArrayList<>(l);
        more.add(ImaListWriter.imaNg(6, HashAlg.SHA256, new byte[32], "/usr/bin/intruder"));
        Path log2 = binaryLog(more);
        Run bad = run("verify", "ima", "--policy", policy.toString(), "--log", log2.toString(), "--json");
        assertThat(bad.exit()).isEqualTo(1);
        JsonNode b = new ObjectMapper().readTree(bad.out());
        assertThat(b.get("verdict").asText()).isEqualTo("fail");
        assertThat(b.get("failures").get(0).get("index").asLong()).isEqualTo(6);
        assertThat(b.get("failures").get(0).get("path").asText()).isEqualTo("/usr/bin/intruder");
        assertThat(b.get("failures").get(0).get("eventId").asText()).isEqualTo("ima.validation.ima-ng.not_in_allowlist");

        Run wrongPcr = run("verify", "ima", "--policy", policy.toString(), "--log", log.toString(), "--pcr",
                "00".repeat(20));
        assertThat(wrongPcr.exit()).isEqualTo(1);
        assertThat(wrongPcr.out()).contains("ima.pcr_mismatch");
    }

    @Test
    void unusableInputExitsTwoWithOneErrorLine() throws Exception {
        Path policy = dir.resolve("p.json");
        Files.writeString(policy, "{\n];\n");
        Path log = binaryLog(entries());
        Run r = run("verify", "ima", "--policy", policy.toString(), "--log", log.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("error: ").contains("not valid JSON");
        assertThat(r.err().strip().lines()).hasSize(1);

        Path good = dir.resolve("good.json");
        assertThat(run("policy", "create", "runtime", "--ima-log", log.toString(), "--out", good.toString()).exit())
                .isZero();
        byte[] bytes = Files.readAllBytes(log);
        Path cut = Files.write(dir.resolve("cut"), java.util.Arrays.copyOf(bytes, bytes.length - 3));
        Run t = run("verify", "ima", "--policy", good.toString(), "--log", cut.toString());
        assertThat(t.exit()).isEqualTo(2);
        assertThat(t.err()).contains("truncated at offset");
        Path empty = Files.write(dir.resolve("empty"), new byte[0]);
        assertThat(run("verify", "ima", "--policy", good.toString(), "--log", empty.toString()).exit()).isEqualTo(2);
        assertThat(run("verify", "ima", "--policy", good.toString(), "--log", log.toString(), "--pcr", "abc").exit())
                .isEqualTo(2);
        // The policy loads beside the list, but its error still comes first, as when it was loaded before the list.
        for (String[] list : List.of(new String[] {"--log", cut.toString()}, new String[] {"--log", empty.toString()},
                new String[] {"--log", log.toString(), "--pcr", "abc"}, new String[] {"--log", dir.resolve("none").toString()})) {
            List<String> args = new java.util.ArrayList<>(List.of("verify", "ima", "--policy", policy.toString()));
            args.addAll(List.of(list));
            Run both = run(args.toArray(String[]::new));
            assertThat(both.exit()).isEqualTo(2);
            assertThat(both.err()).as(String.join(" ", list)).contains("not valid JSON");
        }
        Run missing = run("verify", "ima", "--policy", dir.resolve("absent.json").toString(), "--log", cut.toString());
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).contains("absent.json");
    }

    @Test
    void rootfsHashingWithExcludesAndProgress() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        Files.createDirectories(root.resolve("usr/bin"));
        Files.createDirectories(root.resolve("tmp"));
        Files.writeString(root.resolve("usr/bin/tool"), "tool");
        Files.writeString(root.resolve("tmp/scratch"), "x");
        Path out = dir.resolve("fs.json");
        Run r = run("policy", "create", "runtime", "--rootfs", root.toString(), "--exclude", "/tmp/",
                "--progress", "--out", out.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.err()).contains("100%");
        RuntimePolicy p = PolicyLoader.unsigned().load(out);
        assertThat(p.digests()).containsOnlyKeys("/usr/bin/tool");
        assertThat(p.digests().get("/usr/bin/tool")).containsExactly(
                Hex.encode(HashAlg.SHA256.digest("tool".getBytes(StandardCharsets.UTF_8))));
    }

    @Test
    void convertLegacyAllowlist() throws Exception {
        Path allow = Files.writeString(dir.resolve("allow.txt"), "a".repeat(40) + "  /bin/a\n" + "b".repeat(64)
                + " %keyring:.ima\n");
        Path excl = Files.writeString(dir.resolve("excl.txt"), "# temp\n/tmp/.*\n");
        Path out = dir.resolve("conv.json");
        Run r = run("policy", "convert", "--allowlist", allow.toString(), "--excludelist", excl.toString(), "--out",
                out.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        RuntimePolicy p = PolicyLoader.unsigned().load(out);
        assertThat(p.digests()).containsKey("/bin/a");
        assertThat(p.keyrings()).containsKey(".ima");
        assertThat(p.excludes()).containsExactly("/tmp/.*");
        Path bad = Files.writeString(dir.resolve("bad.txt"), "xyz /bin/a\n");
        Run b = run("policy", "convert", "--allowlist", bad.toString(), "--out", dir.resolve("x.json").toString());
        assertThat(b.exit()).isEqualTo(2);
        assertThat(b.err()).contains("allowlist line 1");
    }

    private static Path corpus(String rel) {
        String root = System.getProperty("outpost.testdata");
        assumeTrue(root != null && Files.isDirectory(Path.of(root)), "outpost.testdata not available");
        return Path.of(root, rel);
    }

    @Test
    void realListAgainstItsOwnPolicyAndQuotedPcr() throws Exception {
        Path log = corpus("ima/rust-keylime/ascii_runtime_measurements");
        Path policy = dir.resolve("rk.json");
        assertThat(run("policy", "create", "runtime", "--ima-log", log.toString(), "--out", policy.toString()).exit())
                .isZero();
        Run r = run("verify", "ima", "--policy", policy.toString(), "--log", log.toString(), "--pcr",
                "82231c67a69da98dc5b3aa10f6343d33109225fc", "--json");
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.get("format").asText()).isEqualTo("ascii");
        assertThat(j.get("entriesMatched").asLong()).isEqualTo(826);

        Path signed = corpus("policies/keylime/runtime-policy-test-signed.json");
        Path key = corpus("policies/keylime/runtime-policy-pubkey.pub");
        Run s = run("verify", "ima", "--policy", signed.toString(), "--policy-key", key.toString(), "--log",
                log.toString());
        assertThat(s.exit()).isEqualTo(1);
        Run sb = run("verify", "ima", "--policy", corpus("policies/keylime/runtime-policy-test-signed-bad.json")
                .toString(), "--policy-key", key.toString(), "--log", log.toString());
        assertThat(sb.exit()).isEqualTo(2);
        assertThat(sb.err()).contains("sig");
        Run unknown = run("policy", "create", "runtime", "--ima-log",
                corpus("ima/keylime/create-runtime-policy/ima-log-unknown").toString(), "--out",
                dir.resolve("u.json").toString());
        assertThat(unknown.exit()).isEqualTo(2);
        assertThat(unknown.err()).contains("invalid digest algorithm");
    }
}
