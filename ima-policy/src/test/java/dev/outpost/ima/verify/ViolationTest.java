package dev.outpost.ima.verify;

import static dev.outpost.ima.verify.Fixtures.allowing;
import static dev.outpost.ima.verify.Fixtures.ascii;
import static dev.outpost.ima.verify.Fixtures.binary;
import static dev.outpost.ima.verify.Fixtures.digest;
import static dev.outpost.ima.verify.Fixtures.pcr;
import static dev.outpost.ima.verify.Fixtures.reader;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import java.io.InputStream;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.outpost.ima.TestData;
import dev.outpost.ima.list.Hex;
import dev.outpost.ima.list.ImaEntry;
import dev.outpost.ima.list.ImaLimits;
import dev.outpost.ima.list.ImaListWriter;
import dev.outpost.ima.list.ImaLists;
import dev.outpost.ima.policy.ImaSettings;
import dev.outpost.ima.policy.RuntimePolicy;
import dev.outpost.ima.replay.ReplayVariant;
import dev.outpost.tpm.HashAlg;

/**
 * ToMToU / open-writers violations as Keylime's verifier judges them by default: replayed as all-ones, counted, the
 * path not held against the policy; failing on them is the verifier's option.
 */
class ViolationTest {
    private static final HashAlg A = HashAlg.SHA256;

    /**
     * One violation on a path the policy does not list and one on a path it lists with another digest: judged as
     * measurements, the first is not_in_allowlist and the second runtime_policy_hash.
     */
    private static List<ImaEntry> list() {
        return List.of(
                ImaListWriter.imaNg(0, A, digest(A, "aggregate"), "boot_aggregate"),
                ImaListWriter.imaNg(1, A, digest(A, "sshd"), "/usr/sbin/sshd"),
                ImaListWriter.violation(2, A, "/var/log/journal/system.journal"),
                ImaListWriter.imaNg(3, A, digest(A, "libc"), "/usr/lib64/libc.so.6"),
                ImaListWriter.violation(4, A, "/usr/sbin/sshd"),
                ImaListWriter.imaNg(5, A, digest(A, "bash"), "/usr/bin/bash"));
    }

    /** Allows every measurement of the list, and nothing for the violations. */
    private static CompiledPolicy policy(List<ImaEntry> l) {
        return new CompiledPolicy(allowing(l.stream().filter(e -> !e.isViolation()).toList(), List.of(), ""));
    }

    private static ImaVerificationResult verify(ViolationHandling h, List<ImaEntry> l, byte[] list, ImaState prev,
            HashAlg bank, byte[] quoted) throws Exception {
        long from = IncrementalImaVerifier.startState(prev, "boot-1", bank).nextIndex();
        return new IncrementalImaVerifier(policy(l), h).verify(prev, "boot-1", new QuotedPcr(bank, quoted),
                reader(list, from));
    }

    @ParameterizedTest
    @EnumSource(value = HashAlg.class, names = {"SHA1", "SHA256"})
    void byDefaultAViolationIsReplayedAndCountedAndItsPathNotJudged(HashAlg bank) throws Exception {
        List<ImaEntry> l = list();
        for (byte[] list : List.of(binary(l), ascii(l))) {
            ImaVerificationResult r = verify(ViolationHandling.COUNT, l, list, null, bank,
                    pcr(l, bank, ReplayVariant.NATIVE));
            assertThat(r.failures()).isEmpty();
            assertThat(r.passed()).isTrue();
            assertThat(r.entriesMatched()).isEqualTo(6);
            assertThat(r.violations()).isEqualTo(2);
            assertThat(r.violationsSinceBoot()).isEqualTo(2);
            assertThat(r.nextState().nextIndex()).isEqualTo(6);
            assertThat(r.nextState().violations()).isEqualTo(2);
        }
        // The one-argument constructor is the Keylime default too.
        ImaVerificationResult dflt = new IncrementalImaVerifier(policy(l)).verify(null, "boot-1",
                new QuotedPcr(bank, pcr(l, bank, ReplayVariant.NATIVE)), reader(binary(l), 0));
        assertThat(dflt.passed()).isTrue();
    }

    @Test
    void aViolationStillHasToReplayAsAllOnes() throws Exception {
        // A PCR extended with the logged (all-zero) template hash instead of all-ones is not this list's PCR.
        List<ImaEntry> l = list();
        byte[] zeros = new byte[20];
        for (ImaEntry e : l) {
            byte[] both = new byte[40];
            System.arraycopy(zeros, 0, both, 0, 20);
            System.arraycopy(e.templateHash(), 0, both, 20, 20);
            zeros = HashAlg.SHA1.digest(both);
        }
        ImaVerificationResult r = verify(ViolationHandling.COUNT, l, binary(l), null, HashAlg.SHA1, zeros);
        assertThat(r.passed()).isFalse();
        assertThat(r.failures()).extracting(ImaFailure::eventId).containsExactly(EventIds.PCR_MISMATCH);
    }

    @Test
    void failOnViolationsFailsEachCoveredViolationWithTheTomtouEventAndNothingElse() throws Exception {
        List<ImaEntry> l = list();
        ImaVerificationResult r = verify(ViolationHandling.FAIL, l, binary(l), null, HashAlg.SHA1,
                Fixtures.sha1Pcr(l));
        assertThat(r.passed()).isFalse();
        assertThat(r.violations()).isEqualTo(2);
        assertThat(r.failures()).extracting(ImaFailure::index, ImaFailure::path, ImaFailure::template,
                ImaFailure::eventId).containsExactly(
                        tuple(2L, "/var/log/journal/system.journal", "ima-ng", "ima.validation.tomtou"),
                        tuple(4L, "/usr/sbin/sshd", "ima-ng", "ima.validation.tomtou"));
        assertThat(r.failures().get(0).message()).contains("violation");
        assertThat(r.nextState().nextIndex()).isZero();
        assertThat(r.nextState().violations()).isZero();
    }

    @Test
    void failOnViolationsIgnoresViolationsTheQuoteDoesNotCoverYet() throws Exception {
        List<ImaEntry> l = list();
        // The quote was taken after entry 1; the violation at 2 comes back with the next quote.
        ImaVerificationResult r = verify(ViolationHandling.FAIL, l, binary(l), null, HashAlg.SHA1,
                Fixtures.sha1Pcr(l.subList(0, 2)));
        assertThat(r.passed()).isTrue();
        assertThat(r.entriesMatched()).isEqualTo(2);
        assertThat(r.violations()).isZero();
        ImaVerificationResult next = verify(ViolationHandling.FAIL, l, binary(l.subList(2, 6)), r.nextState(),
                HashAlg.SHA1, Fixtures.sha1Pcr(l));
        assertThat(next.failures()).extracting(ImaFailure::index).containsExactly(2L, 4L);
    }

    @Test
    void theCountSinceBootSurvivesIncrementsAndTheStoreAndStartsOverOnReboot() throws Exception {
        List<ImaEntry> l = list();
        ImaVerificationResult r1 = verify(ViolationHandling.COUNT, l, binary(l.subList(0, 4)), null, HashAlg.SHA1,
                Fixtures.sha1Pcr(l.subList(0, 4)));
        assertThat(r1.violations()).isEqualTo(1);
        ImaState stored = ImaStateCodec.decode(ImaStateCodec.encode(r1.nextState()));
        assertThat(stored.violations()).isEqualTo(1);
        ImaVerificationResult r2 = verify(ViolationHandling.COUNT, l, binary(l.subList(4, 6)), stored, HashAlg.SHA1,
                Fixtures.sha1Pcr(l));
        assertThat(r2.passed()).isTrue();
        assertThat(r2.firstIndex()).isEqualTo(4);
        assertThat(r2.violations()).isEqualTo(1);
        assertThat(r2.violationsSinceBoot()).isEqualTo(2);
        assertThat(ImaStateCodec.decode(ImaStateCodec.encode(r2.nextState())).violations()).isEqualTo(2);
        assertThat(IncrementalImaVerifier.startState(r2.nextState(), "boot-2", HashAlg.SHA1).violations()).isZero();
    }

    @Test
    void aViolationOnAnotherPcrIsStillRefused() throws Exception {
        ImaEntry v = ImaListWriter.violation(1, A, "/tmp/x");
        ImaEntry elsewhere = new ImaEntry(1, 11, v.templateHash(), v.template(), v.templateData(), v.digestAlg(),
                v.digest(), v.path(), null, null, null, null, null);
        List<ImaEntry> l = List.of(list().get(0), elsewhere);
        ImaVerificationResult whole = new IncrementalImaVerifier(policy(l)).verifyWhole(reader(binary(l), 0),
                HashAlg.SHA1);
        assertThat(whole.failures()).extracting(ImaFailure::eventId).containsExactly(EventIds.UNEXPECTED_PCR);
    }

    /**
     * keylime's create-runtime-policy test list: boot_aggregate logged as a violation, then /data. The policy is
     * built the way keylime's test builds it, from the allowlist beside it ({@code <digest>  data}, under /).
     */
    @Test
    void keylimesSha1ListWithAViolationPassesByDefaultAndFailsWhenAskedTo() throws Exception {
        String allow = Files.readString(TestData.file("policies/keylime/create-runtime-policy/allowlist-sha1")).trim();
        String[] cols = allow.split("\\s+");
        RuntimePolicy p = new RuntimePolicy(1, 3, null, 0, Map.of("/" + cols[1], List.of(cols[0])), List.of(),
                Map.of(), ImaSettings.DEFAULT, Map.of(), "");
        // The README's independently computed replay of this list.
        QuotedPcr quote = new QuotedPcr(HashAlg.SHA1, Hex.decodeOrNull("62e5bdf4783228f7deec959f0a89a4739af79ac5"));
        for (ViolationHandling h : ViolationHandling.values()) {
            ImaVerificationResult r;
            try (InputStream in = Files.newInputStream(TestData.file("ima/keylime/create-runtime-policy/ima-log-sha1"))) {
                r = new IncrementalImaVerifier(new CompiledPolicy(p), h).verify(null, "b", quote,
                        ImaLists.open(in, ImaLimits.DEFAULT, 0));
            }
            assertThat(r.entriesMatched()).as("%s", h).isEqualTo(2);
            assertThat(r.violations()).as("%s", h).isEqualTo(1);
            if (h == ViolationHandling.COUNT) {
                assertThat(r.failures()).isEmpty();
                assertThat(r.passed()).isTrue();
            } else {
                assertThat(r.failures()).extracting(ImaFailure::index, ImaFailure::path, ImaFailure::eventId)
                        .containsExactly(tuple(0L, "boot_aggregate", EventIds.VIOLATION));
            }
        }
    }
}
