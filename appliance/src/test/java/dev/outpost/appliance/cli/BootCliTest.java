package dev.outpost.appliance.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.ima.boot.BootPolicyJson;
import dev.outpost.testkit.CliRun;
import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.eventlog.EventLog;
import dev.outpost.tpm.eventlog.EventLogWriter;
import dev.outpost.tpm.eventlog.EventType;
import dev.outpost.tpm.eventlog.Guid;
import dev.outpost.tpm.eventlog.PcrReplay;
import dev.outpost.tpm.eventlog.ReplayResult;
import dev.outpost.tpm.wire.PcrFile;
import dev.outpost.tpm.wire.PcrValues;

/** outpost-appliance policy create measured-boot and verify boot, in-process. */
class BootCliTest {
    private static final Guid GLOBAL = new Guid("8be4df61-93ca-11d2-aa0d-00e098032b8c");

    @TempDir
    Path dir;

    private static CliRun run(String... args) {
        return CliRun.run(ApplianceCli::commandLine, args);
    }

    /** A small Secure Boot log: SecureBoot=secureBoot, one boot application, one grub command line. */
    private static byte[] log(int secureBoot, String kernel, String cmdline) {
        EventLogWriter w = EventLogWriter.cryptoAgile(HashAlg.SHA1, HashAlg.SHA256);
        ByteArrayOutputStream v = new ByteArrayOutputStream();
        v.writeBytes(GLOBAL.toBytes());
        v.writeBytes(new byte[] {10, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0});
        v.writeBytes("SecureBoot".getBytes(StandardCharsets.UTF_16LE));
        v.write(secureBoot);
        w.event(7, EventType.EV_EFI_VARIABLE_DRIVER_CONFIG, v.toByteArray());
        for (int pcr = 0; pcr <= 7; pcr++) {
            w.event(pcr, EventType.EV_SEPARATOR, new byte[4]);
        }
        w.event(4, EventType.EV_EFI_BOOT_SERVICES_APPLICATION.value(), new byte[32], digests(kernel));
        w.event(8, EventType.EV_IPL.value(), ("kernel_cmdline: " + cmdline + "\0").getBytes(StandardCharsets.UTF_8),
                digests(cmdline));
        return w.toBytes();
    }

    private static Map<HashAlg, byte[]> digests(String s) {
        Map<HashAlg, byte[]> d = new LinkedHashMap<>();
        d.put(HashAlg.SHA1, HashAlg.SHA1.digest(s.getBytes(StandardCharsets.UTF_8)));
        d.put(HashAlg.SHA256, HashAlg.SHA256.digest(s.getBytes(StandardCharsets.UTF_8)));
        return d;
    }

    private Path pcrFile(byte[] log, String name) throws Exception {
        ReplayResult r = PcrReplay.replay(EventLog.parse(log));
        PcrValues v = new PcrValues();
        for (HashAlg bank : r.banks()) {
            r.pcrs(bank).forEach((pcr, value) -> v.put(bank, pcr, value));
        }
        return Files.write(dir.resolve(name), PcrFile.write(v, v.selection()));
    }

    @Test
    void createThenVerifyPassesAndAChangedBootFails() throws Exception {
        byte[] good = log(1, "vmlinuz-6.1", "root=/dev/sda1 ro");
        Path goodLog = Files.write(dir.resolve("good.bin"), good);
        Path policy = dir.resolve("boot-policy.json");
        CliRun c = run("policy", "create", "measured-boot", "--eventlog", goodLog.toString(), "--out",
                policy.toString());
        assertThat(c.exitCode()).as(c.err()).isZero();
        assertThat(c.out()).contains("Secure Boot required, 1 boot applications, 1 kernel command lines");
        assertThat(new BootPolicyJson().read(Files.readAllBytes(policy)).kernelCmdlines()).hasSize(1);

        CliRun ok = run("verify", "boot", "--policy", policy.toString(), "--eventlog", goodLog.toString(),
                "--pcrs", pcrFile(good, "good.pcrs").toString(), "--json");
        assertThat(ok.exitCode()).as(ok.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(ok.out());
        assertThat(j.get("verdict").asText()).isEqualTo("pass");
        assertThat(j.get("eventsRead").asInt()).isEqualTo(EventLog.parse(good).events().size());
        assertThat(j.get("pcrsChecked").asBoolean()).isTrue();
        assertThat(j.get("failures")).isEmpty();

        byte[] evil = log(1, "vmlinuz-evil", "root=/dev/sda1 ro init=/bin/sh");
        Path evilLog = Files.write(dir.resolve("evil.bin"), evil);
        CliRun bad = run("verify", "boot", "--policy", policy.toString(), "--eventlog", evilLog.toString(), "--pcrs",
                pcrFile(evil, "evil.pcrs").toString(), "--json");
        assertThat(bad.exitCode()).isEqualTo(1);
        JsonNode b = new ObjectMapper().readTree(bad.out());
        assertThat(b.get("verdict").asText()).isEqualTo("fail");
        assertThat(b.get("failures")).extracting(f -> f.get("id").asText())
                .containsExactly("boot.application.not_allowed", "boot.cmdline.not_allowed");
        assertThat(b.get("failures").get(0).get("index").asInt()).isEqualTo(10);

        // The good log with the evil machine's PCRs: the log is not that machine's.
        CliRun replay = run("verify", "boot", "--policy", policy.toString(), "--eventlog", goodLog.toString(),
                "--pcrs", dir.resolve("evil.pcrs").toString());
        assertThat(replay.exitCode()).isEqualTo(1);
        assertThat(replay.out()).startsWith("FAIL").contains("boot.log.replay_mismatch");

        CliRun offline = run("verify", "boot", "--policy", policy.toString(), "--eventlog", goodLog.toString());
        assertThat(offline.exitCode()).isZero();
        assertThat(offline.out()).contains("PCRs not checked");
    }

    @Test
    void unusableInputIsExit2WithOneErrorLine() throws Exception {
        Path goodLog = Files.write(dir.resolve("good.bin"), log(1, "k", "ro"));
        Path policy = dir.resolve("p.json");
        Files.writeString(policy, "{\"kind\":\"outpost-measured-boot-policy\",\"version\":1,\"secureBoot\":5}");
        CliRun r = run("verify", "boot", "--policy", policy.toString(), "--eventlog", goodLog.toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().strip()).isEqualTo("error: $.secureBoot: must be a string, not number");

        CliRun missing = run("verify", "boot", "--policy", dir.resolve("nope.json").toString(), "--eventlog",
                goodLog.toString());
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err()).startsWith("error: cannot read");

        Path garbage = Files.writeString(dir.resolve("garbage.bin"), "not an event log at all, clearly");
        CliRun g = run("policy", "create", "measured-boot", "--eventlog", garbage.toString(), "--out",
                dir.resolve("x.json").toString());
        assertThat(g.exitCode()).isEqualTo(2);
        assertThat(g.err()).startsWith("error: ");
        assertThat(Files.exists(dir.resolve("x.json"))).isFalse();

        Path pcrs = Files.writeString(dir.resolve("bad.pcrs"), "xx");
        Files.writeString(policy, "{\"kind\":\"outpost-measured-boot-policy\",\"version\":1,\"secureBoot\":\"any\"}");
        CliRun p = run("verify", "boot", "--policy", policy.toString(), "--eventlog", goodLog.toString(), "--pcrs",
                pcrs.toString());
        assertThat(p.exitCode()).isEqualTo(2);
        assertThat(p.err()).startsWith("error: ");
    }

    @Test
    void secureBootOffNeedsItsFlag() throws Exception {
        Path off = Files.write(dir.resolve("off.bin"), log(0, "k", "ro"));
        Path policy = dir.resolve("p.json");
        CliRun refused = run("policy", "create", "measured-boot", "--eventlog", off.toString(), "--out",
                policy.toString());
        assertThat(refused.exitCode()).isEqualTo(2);
        assertThat(refused.err()).contains("--without-secureboot");
        CliRun ok = run("policy", "create", "measured-boot", "--eventlog", off.toString(), "--out",
                policy.toString(), "--without-secureboot", "--pin-pcrs");
        assertThat(ok.exitCode()).as(ok.err()).isZero();
        assertThat(ok.err()).contains("warning: Secure Boot is not enabled");
        assertThat(run("verify", "boot", "--policy", policy.toString(), "--eventlog", off.toString()).exitCode())
                .isZero();
    }

    @Test
    void keylimeReferenceStateConverts() throws Exception {
        String root = System.getProperty("outpost.testdata");
        Path refstate = root == null ? null
                : Path.of(root, "policies/keylime/measured-boot/example_reference_state.json");
        org.junit.jupiter.api.Assumptions.assumeTrue(refstate != null && Files.exists(refstate), "corpus absent");
        Path out = dir.resolve("converted.json");
        CliRun r = run("policy", "convert", "--keylime-refstate", refstate.toString(), "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("5 event digest rules");
        assertThat(r.err()).contains("warning: kernel_cmdline values are Python regexes");
        assertThat(new BootPolicyJson().read(Files.readAllBytes(out)).db().entries()).hasSize(2);

        CliRun both = run("policy", "convert", "--keylime-refstate", refstate.toString(), "--allowlist",
                refstate.toString(), "--out", out.toString());
        assertThat(both.exitCode()).isEqualTo(2);
        assertThat(both.err()).startsWith("error: --keylime-refstate cannot be combined");
        CliRun none = run("policy", "convert", "--out", out.toString());
        assertThat(none.exitCode()).isEqualTo(2);
        assertThat(none.err()).startsWith("error: one of --allowlist or --keylime-refstate is required");
    }
}
