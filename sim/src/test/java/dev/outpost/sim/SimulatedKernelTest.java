package dev.outpost.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.ima.boot.BootFailure;
import dev.outpost.ima.boot.BootFailureIds;
import dev.outpost.ima.boot.BootPolicy;
import dev.outpost.ima.boot.BootPolicyEvaluator;
import dev.outpost.ima.boot.BootPolicyJson;
import dev.outpost.ima.boot.BootPolicyResult;
import dev.outpost.ima.list.ImaEntry;
import dev.outpost.ima.list.ImaEntryReader;
import dev.outpost.ima.list.ImaLimits;
import dev.outpost.ima.list.ImaLists;
import dev.outpost.ima.policy.RuntimePolicyJson;
import dev.outpost.ima.replay.ReplayVariant;
import dev.outpost.ima.verify.CompiledPolicy;
import dev.outpost.ima.verify.EventIds;
import dev.outpost.ima.verify.ImaFailure;
import dev.outpost.ima.verify.ImaSignature;
import dev.outpost.ima.verify.ImaVerificationResult;
import dev.outpost.ima.verify.IncrementalImaVerifier;
import dev.outpost.ima.verify.QuotedPcr;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.eventlog.EventLog;
import dev.outpost.tpm.eventlog.PcrReplay;
import dev.outpost.tpm.eventlog.ReplayResult;
import dev.outpost.tpm.wire.PcrValues;

/**
 * The simulated kernel against a real swtpm and the product's own parsers, verifiers and policy generators: what
 * it writes must be exactly what they read, in both banks.
 */
@ExtendWith(SwtpmExtension.class)
class SimulatedKernelTest {
    private static final List<HashAlg> BANKS = List.of(HashAlg.SHA1, HashAlg.SHA256);
    private static final Set<Integer> BOOT_PCRS = new TreeSet<>(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));

    @TempDir
    Path dir;

    @Test
    void goodBootAndMeasurementsVerifyAgainstTheTpmInBothBanks(Swtpm swtpm) throws Exception {
        SimulatedKernel k = bootedWithFiles(swtpm);
        k.measureSigned("/usr/bin/signed-tool", bytes("signed tool"),
                new ImaSignature(HashAlg.SHA256, 0x12345678, new byte[64]).encode());

        EventLog log = EventLog.parse(Files.readAllBytes(k.bootLog()));
        PcrValues tpm = k.readPcrs(BOOT_PCRS);
        ReplayResult replay = PcrReplay.replay(log);
        for (HashAlg bank : BANKS) {
            assertThat(replay.touched(bank)).as("%s", bank).isEqualTo(BOOT_PCRS);
            for (int pcr : BOOT_PCRS) {
                assertThat(replay.pcrs(bank).get(pcr)).as("%s PCR %d", bank, pcr)
                        .isEqualTo(tpm.get(bank, pcr).orElseThrow());
            }
        }

        BootPolicy bootPolicy = new BootPolicyJson().read(GoodPolicies.bootPolicyJson(k));
        BootPolicyResult boot = BootPolicyEvaluator.evaluate(bootPolicy, log, tpm);
        assertThat(boot.failures()).isEmpty();
        assertThat(boot.passed()).isTrue();
        assertThat(boot.pcrsChecked()).isTrue();

        // boot_aggregate as the kernel computes it for the sha256 bank: H(PCR0 || ... || PCR9).
        ByteArrayOutputStream pcrs = new ByteArrayOutputStream();
        BOOT_PCRS.forEach(p -> pcrs.writeBytes(tpm.get(HashAlg.SHA256, p).orElseThrow()));
        ImaEntry first = k.entries().get(0);
        assertThat(first.path()).isEqualTo("boot_aggregate");
        assertThat(first.digestAlg()).isEqualTo(HashAlg.SHA256);
        assertThat(first.digest()).isEqualTo(HashAlg.SHA256.digest(pcrs.toByteArray()));

        CompiledPolicy policy = goodRuntimePolicy(k);
        assertThat(k.listLength()).isEqualTo(5);
        for (HashAlg bank : BANKS) {
            for (Path list : List.of(k.binaryRuntimeMeasurements(), k.asciiRuntimeMeasurements())) {
                ImaVerificationResult r = verify(k, policy, bank, list);
                assertThat(r.failures()).as("%s %s", bank, list.getFileName()).isEmpty();
                assertThat(r.passed()).isTrue();
                assertThat(r.entriesMatched()).isEqualTo(5);
                assertThat(r.variant()).isEqualTo(ReplayVariant.NATIVE);
            }
        }
    }

    @Test
    void binaryAndAsciiListsHoldTheSameEntries(Swtpm swtpm) throws Exception {
        SimulatedKernel k = bootedWithFiles(swtpm);
        k.violation("/var/log/app.log");
        List<ImaEntry> bin = read(k.binaryRuntimeMeasurements());
        List<ImaEntry> ascii = read(k.asciiRuntimeMeasurements());
        assertThat(bin).hasSize(5).hasSameSizeAs(ascii);
        for (int i = 0; i < bin.size(); i++) {
            assertThat(bin.get(i).templateHash()).isEqualTo(ascii.get(i).templateHash())
                    .isEqualTo(k.entries().get(i).templateHash());
            assertThat(bin.get(i).templateData()).isEqualTo(ascii.get(i).templateData());
            assertThat(bin.get(i).path()).isEqualTo(ascii.get(i).path());
        }
        assertThat(Files.readString(k.asciiRuntimeMeasurements())).startsWith("10 ")
                .contains(" ima-ng sha256:").contains(" boot_aggregate\n");
    }

    @Test
    void anUnlistedFileIsNotInTheAllowlist(Swtpm swtpm) throws Exception {
        SimulatedKernel k = bootedWithFiles(swtpm);
        CompiledPolicy policy = goodRuntimePolicy(k);
        k.measureUnlisted("/tmp/dropper", bytes("malware"));
        for (HashAlg bank : BANKS) {
            ImaVerificationResult r = verify(k, policy, bank, k.binaryRuntimeMeasurements());
            assertThat(r.passed()).isFalse();
            assertThat(r.failures()).extracting(ImaFailure::eventId, ImaFailure::index, ImaFailure::path)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("ima.validation.ima-ng.not_in_allowlist",
                            4L, "/tmp/dropper"));
        }
        assertThat(GoodPolicies.runtimePolicy(k).digests()).doesNotContainKey("/tmp/dropper");
    }

    @Test
    void aChangedFileHasTheWrongDigest(Swtpm swtpm) throws Exception {
        SimulatedKernel k = bootedWithFiles(swtpm);
        CompiledPolicy policy = goodRuntimePolicy(k);
        k.measure("/usr/bin/agent", bytes("agent v2, patched by someone"));
        for (HashAlg bank : BANKS) {
            ImaVerificationResult r = verify(k, policy, bank, k.binaryRuntimeMeasurements());
            assertThat(r.passed()).isFalse();
            assertThat(r.failures()).extracting(ImaFailure::eventId)
                    .containsExactly("ima.validation.ima-ng.runtime_policy_hash");
        }
    }

    @Test
    void anUnloggedExtendMatchesNoPrefixOfTheList(Swtpm swtpm) throws Exception {
        SimulatedKernel k = bootedWithFiles(swtpm);
        CompiledPolicy policy = goodRuntimePolicy(k);
        k.extendWithoutLog(bytes("hidden measurement"));
        assertThat(k.listLength()).isEqualTo(4);
        for (HashAlg bank : BANKS) {
            ImaVerificationResult r = verify(k, policy, bank, k.binaryRuntimeMeasurements());
            assertThat(r.passed()).isFalse();
            assertThat(r.entriesMatched()).isZero();
            assertThat(r.failures()).extracting(ImaFailure::eventId).containsExactly(EventIds.PCR_MISMATCH);
        }
    }

    @Test
    void aViolationIsCountedAndStillReplays(Swtpm swtpm) throws Exception {
        SimulatedKernel k = bootedWithFiles(swtpm);
        k.violation("/var/log/app.log");
        CompiledPolicy policy = goodRuntimePolicy(k);
        for (HashAlg bank : BANKS) {
            ImaVerificationResult r = verify(k, policy, bank, k.binaryRuntimeMeasurements());
            assertThat(r.violations()).as("%s", bank).isEqualTo(1);
            // The all-ones extend replays: the quote covers the whole list.
            assertThat(r.entriesMatched()).isEqualTo(5);
            // Like Keylime's verifier by default, the violation's path is not judged (the policy does not know
            // the file, below): a violation is not a failure.
            assertThat(r.failures()).isEmpty();
            assertThat(r.passed()).isTrue();
        }
        assertThat(GoodPolicies.runtimePolicy(k).digests()).doesNotContainKey("/var/log/app.log");
    }

    @Test
    void rebootStartsFromZeroWithTheSameBootAndANewList(Swtpm swtpm) throws Exception {
        SimulatedKernel k = bootedWithFiles(swtpm);
        CompiledPolicy policy = goodRuntimePolicy(k);
        BootPolicy bootPolicy = GoodPolicies.bootPolicy(k);
        PcrValues before = k.readPcrs(Set.of(0, 4, 7, 9, 10));
        String bootId = k.bootId();
        byte[] log = k.bootLogBytes();

        k.reboot(swtpm::reboot);

        assertThat(k.boots()).isEqualTo(2);
        assertThat(k.bootId()).isNotEqualTo(bootId);
        assertThat(k.bootLogBytes()).isEqualTo(log);
        assertThat(k.listLength()).isEqualTo(1);
        assertThat(read(k.binaryRuntimeMeasurements())).extracting(ImaEntry::path).containsExactly("boot_aggregate");
        PcrValues after = k.readPcrs(Set.of(0, 4, 7, 9, 10));
        for (HashAlg bank : BANKS) {
            for (int pcr : List.of(0, 4, 7, 9)) {
                assertThat(after.get(bank, pcr).orElseThrow()).isEqualTo(before.get(bank, pcr).orElseThrow());
            }
            // PCR 10 restarted from zero: now it holds boot_aggregate alone.
            assertThat(after.get(bank, 10).orElseThrow()).isNotEqualTo(before.get(bank, 10).orElseThrow())
                    .isEqualTo(bank.extend(new byte[bank.digestSize()],
                            SimulatedKernel.pcr10Digests(k.entries().get(0)).get(bank)));
            ImaVerificationResult r = verify(k, policy, bank, k.binaryRuntimeMeasurements());
            assertThat(r.failures()).isEmpty();
            assertThat(r.entriesMatched()).isEqualTo(1);
        }
        BootPolicyResult boot = BootPolicyEvaluator.evaluate(bootPolicy, EventLog.parse(k.bootLogBytes()),
                k.readPcrs(BOOT_PCRS));
        assertThat(boot.failures()).isEmpty();
        k.measure("/usr/bin/agent", bytes("agent v1"));
        assertThat(verify(k, policy, HashAlg.SHA256, k.binaryRuntimeMeasurements()).passed()).isTrue();
    }

    @Test
    void anotherKernelImageIsNotAnAllowedBootApplication(Swtpm swtpm) throws Exception {
        SimulatedKernel k = bootedWithFiles(swtpm);
        BootPolicy good = GoodPolicies.bootPolicy(k);

        swtpm.reboot();
        k.boot(BootProfile.defaults().withKernelImage(bytes("vmlinuz 6.1.0-outpost, rebuilt with a backdoor")));

        BootPolicyResult r = BootPolicyEvaluator.evaluate(good, EventLog.parse(k.bootLogBytes()),
                k.readPcrs(BOOT_PCRS));
        assertThat(r.passed()).isFalse();
        assertThat(r.failures()).extracting(BootFailure::id).containsExactly(BootFailureIds.APPLICATION_NOT_ALLOWED);
    }

    @Test
    void bootingWithoutAPowerCycleIsRefused(Swtpm swtpm) throws Exception {
        SimulatedKernel k = bootedWithFiles(swtpm);
        assertThatThrownBy(() -> k.boot(BootProfile.defaults())).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("power-cycle");
        assertThat(k.listLength()).isEqualTo(4);
    }

    @Test
    void anExplicitFileSetGivesThePolicyForThoseFilesOnly(Swtpm swtpm) throws Exception {
        SimulatedKernel k = bootedWithFiles(swtpm);
        CompiledPolicy policy = new CompiledPolicy(new RuntimePolicyJson().read(GoodPolicies.runtimePolicyJson(k,
                Map.of("/usr/bin/agent", bytes("agent v1"), "/usr/lib/libc.so.6", bytes("libc")))));
        ImaVerificationResult r = verify(k, policy, HashAlg.SHA256, k.binaryRuntimeMeasurements());
        assertThat(r.failures()).extracting(ImaFailure::path).containsExactly("/etc/outpost/agent.yaml");
    }

    @Test
    void aSignedFilePassesByItsSignatureWhenTheKeyIsTrusted(Swtpm swtpm) throws Exception {
        SimulatedKernel k = bootedWithFiles(swtpm);
        ImaSigner signer = ImaSigner.generate();
        k.measureSigned("/usr/local/bin/vendor-tool", bytes("vendor tool"), signer);
        // Digests of the unsigned files only: the signed one must pass on its signature.
        var files = Map.of("/usr/bin/agent", bytes("agent v1"), "/usr/lib/libc.so.6", bytes("libc"),
                "/etc/outpost/agent.yaml", bytes("site: demo\n"));
        var withoutKey = GoodPolicies.runtimePolicy(k, files);
        var withKey = GoodPolicies.trusting(withoutKey, List.of(signer.publicKey()));

        CompiledPolicy trusted = new CompiledPolicy(new RuntimePolicyJson().read(new RuntimePolicyJson().write(withKey)));
        for (HashAlg bank : BANKS) {
            ImaVerificationResult r = verify(k, trusted, bank, k.binaryRuntimeMeasurements());
            assertThat(r.failures()).as("%s", bank).isEmpty();
            assertThat(r.entriesMatched()).isEqualTo(5);
        }
        ImaVerificationResult untrusted = verify(k, new CompiledPolicy(withoutKey), HashAlg.SHA256,
                k.binaryRuntimeMeasurements());
        assertThat(untrusted.failures()).extracting(ImaFailure::eventId)
                .containsExactly("ima.validation.ima-sig.invalid_signature");
    }

    @Test
    void continuousAttestationPicksUpWhereTheLastQuoteEnded(Swtpm swtpm) throws Exception {
        SimulatedKernel k = bootedWithFiles(swtpm);
        k.measure("/usr/bin/later", bytes("later"));
        CompiledPolicy policy = goodRuntimePolicy(k);
        IncrementalImaVerifier v = new IncrementalImaVerifier(policy);
        ImaVerificationResult first;
        try (InputStream in = Files.newInputStream(k.binaryRuntimeMeasurements())) {
            first = v.verify(null, k.bootId(), new QuotedPcr(HashAlg.SHA256, k.readPcr(HashAlg.SHA256, 10)),
                    ImaLists.open(in, ImaLimits.DEFAULT, 0));
        }
        assertThat(first.passed()).isTrue();
        assertThat(first.nextState().nextIndex()).isEqualTo(5);

        k.measure("/usr/bin/agent", bytes("agent v1"));
        k.measureUnlisted("/tmp/x", bytes("x"));
        // The device sends only the entries after the stored offset, as an agent reading the list from there.
        List<ImaEntry> tail = k.entries().subList(5, 7);
        ByteArrayOutputStream bin = new ByteArrayOutputStream();
        for (ImaEntry e : tail) {
            dev.outpost.ima.list.ImaListWriter.writeBinary(bin, e);
        }
        ImaVerificationResult second = v.verify(first.nextState(), k.bootId(),
                new QuotedPcr(HashAlg.SHA256, k.readPcr(HashAlg.SHA256, 10)),
                ImaLists.open(new java.io.ByteArrayInputStream(bin.toByteArray()), ImaLimits.DEFAULT, 5));
        assertThat(second.entriesMatched()).isEqualTo(2);
        assertThat(second.failures()).extracting(ImaFailure::eventId, ImaFailure::index)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("ima.validation.ima-ng.not_in_allowlist", 6L));
    }

    private SimulatedKernel bootedWithFiles(Swtpm swtpm) throws Exception {
        SimulatedKernel k = new SimulatedKernel(swtpm::uri, dir.resolve("securityfs"));
        k.boot(BootProfile.defaults());
        k.measure("/usr/bin/agent", bytes("agent v1"));
        k.measure("/usr/lib/libc.so.6", bytes("libc"));
        k.measure("/etc/outpost/agent.yaml", bytes("site: demo\n"));
        return k;
    }

    private static CompiledPolicy goodRuntimePolicy(SimulatedKernel k) {
        return new CompiledPolicy(new RuntimePolicyJson().read(GoodPolicies.runtimePolicyJson(k)));
    }

    private static ImaVerificationResult verify(SimulatedKernel k, CompiledPolicy policy, HashAlg bank, Path list)
            throws Exception {
        QuotedPcr pcr10 = new QuotedPcr(bank, k.readPcr(bank, SimulatedKernel.IMA_PCR));
        try (InputStream in = Files.newInputStream(list)) {
            return new IncrementalImaVerifier(policy).verify(null, k.bootId(), pcr10,
                    ImaLists.open(in, ImaLimits.DEFAULT, 0));
        }
    }

    private static List<ImaEntry> read(Path list) throws Exception {
        List<ImaEntry> out = new ArrayList<>();
        try (InputStream in = Files.newInputStream(list)) {
            ImaEntryReader r = ImaLists.open(in, ImaLimits.DEFAULT, 0);
            for (ImaEntry e = r.next(); e != null; e = r.next()) {
                out.add(e);
            }
        }
        return out;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
