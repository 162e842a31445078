package dev.outpost.ima.boot;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.outpost.ima.TestData;
import dev.outpost.tpm.eventlog.EventLog;
import dev.outpost.tpm.eventlog.EventLogInput;
import dev.outpost.tpm.eventlog.Limits;

/** Policies generated from the real corpus logs accept the log they came from, online and offline. */
class RealBootLogTest {
    /** Per the corpus README: not logs with measurements. */
    private static final List<String> NOT_MEASURED = List.of("keylime/binary_bios_measurements-bogus",
            "keylime/binary_bios_measurements-empty", "go-attestation/short_no_action_eventlog");

    static Stream<String> measuredLogs() {
        String root = System.getProperty("outpost.testdata");
        if (root == null || !Files.isDirectory(Path.of(root, "eventlogs"))) {
            return Stream.of();
        }
        Path dir = Path.of(root, "eventlogs");
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString().replace('\\', '/'))
                    .filter(n -> !n.endsWith(".yaml") && !n.endsWith(".warn") && !NOT_MEASURED.contains(n))
                    .sorted().toList().stream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static EventLog log(String name) throws Exception {
        byte[] raw = Files.readAllBytes(TestData.file("eventlogs/" + name));
        return EventLog.parse(EventLogInput.fromFile(raw, false, Limits.DEFAULT));
    }

    @Test
    void theCorpusIsThere() {
        TestData.file("eventlogs");
        assertThat(measuredLogs()).hasSize(20);
    }

    @ParameterizedTest
    @MethodSource("measuredLogs")
    void generatedPolicyPassesItsOwnLog(String name) throws Exception {
        EventLog log = log(name);
        GeneratedPolicy g = BootPolicyGenerator.generate(log, true);
        BootPolicyResult offline = BootPolicyEvaluator.evaluate(g.policy(), log, null);
        assertThat(offline.failures()).as(name).isEmpty();
        BootPolicyResult online = BootPolicyEvaluator.evaluate(g.policy(), log,
                BootPolicyEvaluatorTest.quoteOf(log));
        assertThat(online.failures()).as(name).isEmpty();
        BootPolicyJson json = new BootPolicyJson();
        assertThat(json.read(json.write(g.policy()))).as(name).isEqualTo(g.policy());
    }

    @Test
    void systemdBootCommandLinesCountOnlyWhenPcr12IsQuoted() throws Exception {
        EventLog log = log("tpm2-tools/event-sd-boot-fedora37.bin");
        BootPolicy p = BootPolicyGenerator.generate(log, false).policy();
        assertThat(p.kernelCmdlines()).extracting(CmdlineRule::regex)
                .containsExactly(java.util.regex.Pattern.quote(" console=ttyS0 console=tty0 efi=debug "));
        assertThat(BootPolicyEvaluator.evaluate(p, log, BootPolicyEvaluatorTest.quoteOf(log, 9)).failures())
                .extracting(BootFailure::id).containsExactly("boot.cmdline.not_measured");
    }

    @Test
    void keylimeSecureBootLogRequiresSecureBootAndTheOtherDoesNot() throws Exception {
        assertThat(BootPolicyGenerator.generate(log("keylime/binary_bios_measurements-secureboot"), false)
                .policy().secureBoot()).isEqualTo(BootPolicy.SecureBoot.ENABLED);
        GeneratedPolicy off = BootPolicyGenerator.generate(log("keylime/binary_bios_measurements"), false);
        assertThat(off.policy().secureBoot()).isEqualTo(BootPolicy.SecureBoot.ANY);
        assertThat(off.warnings()).anyMatch(w -> w.contains("Secure Boot"));
    }

    @Test
    void realGrubCommandLinesAreReadAndBoundToTheirDigests() throws Exception {
        EventLog log = log("tpm2-tools/event-gce-ubuntu-2104-log.bin");
        BootPolicy p = BootPolicyGenerator.generate(log, false).policy();
        assertThat(p.kernelCmdlines()).isNotEmpty().allMatch(r -> r.regex().contains("ima_hash=sha256"));
        BootPolicy other = new BootPolicy(p.secureBoot(), p.pk(), p.kek(), p.db(), p.dbx(), p.applications(),
                List.of(new CmdlineRule("/boot/vmlinuz-\\S+ root=PARTUUID=\\S+ ro")), List.of(), java.util.Map.of());
        assertThat(BootPolicyEvaluator.evaluate(other, log, BootPolicyEvaluatorTest.quoteOf(log)).failures())
                .extracting(BootFailure::id).containsOnly("boot.cmdline.not_allowed");
    }

    @Test
    void keylimeSecureBootLogRecordsItsDatabases() throws Exception {
        BootPolicy p = BootPolicyGenerator.generate(log("keylime/binary_bios_measurements-secureboot"), false)
                .policy();
        assertThat(p.pk().entries()).isNotEmpty();
        assertThat(p.kek().entries()).isNotEmpty();
        assertThat(p.db().entries()).isNotEmpty().anyMatch(e -> e.kind() == AllowedSignature.Kind.CERT_SHA256);
        assertThat(p.dbx().entries()).isNotEmpty();
        assertThat(p.applications()).isNotEmpty();
    }

    @Test
    void aPolicyFromOneMachineRejectsAnother() throws Exception {
        BootPolicy p = BootPolicyGenerator.generate(log("keylime/binary_bios_measurements-secureboot"), false)
                .policy();
        EventLog other = log("tpm2-tools/event-gce-ubuntu-2104-log.bin");
        BootPolicyResult r = BootPolicyEvaluator.evaluate(p, other, null);
        assertThat(r.passed()).isFalse();
        assertThat(r.failures()).extracting(BootFailure::id).contains("boot.application.not_allowed");
    }
}
