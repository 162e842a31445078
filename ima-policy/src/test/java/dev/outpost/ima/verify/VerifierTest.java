package dev.outpost.ima.verify;

import static dev.outpost.ima.verify.Fixtures.*;
import static org.assertj.core.api.Assertions.assertThat;

import java.security.KeyPair;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.outpost.ima.list.ImaEntry;
import dev.outpost.ima.policy.ExcludeMatcher;
import dev.outpost.ima.list.ImaListWriter;
import dev.outpost.ima.list.ImaTemplate;
import dev.outpost.ima.policy.RuntimePolicy;
import dev.outpost.ima.policy.RuntimePolicyJson;
import dev.outpost.ima.replay.ReplayVariant;
import dev.outpost.tpm.HashAlg;

class VerifierTest {

    /** One entry of every template with the given digest algorithm. */
    static List<ImaEntry> everyTemplate(HashAlg alg) {
        List<ImaEntry> l = new ArrayList<>();
        l.add(ImaListWriter.imaNg(0, alg, digest(alg, "aggregate"), "boot_aggregate"));
        l.add(ImaListWriter.legacyIma(1, digest(HashAlg.SHA1, "legacy"), "/usr/bin/legacy"));
        l.add(ImaListWriter.imaNg(2, alg, digest(alg, "init"), "/init"));
        l.add(ImaListWriter.imaSig(3, alg, digest(alg, "unsigned"), "/usr/bin/unsigned", null));
        l.add(ImaListWriter.imaBuf(4, alg, "kernel_cmdline", "root=/dev/sda1 ro".getBytes()));
        l.add(ImaListWriter.imaModsig(5, alg, digest(alg, "mod"), "/lib/modules/x.ko", null, null, null));
        l.add(ImaListWriter.imaModsig(6, alg, digest(alg, "mod2"), "/lib/modules/y.ko", new byte[] {3, 2},
                digest(alg, "mod2-nosig"), new byte[] {0x30, 0}));
        return l;
    }

    private static ImaVerificationResult verify(RuntimePolicy p, byte[] list, ImaState prev, String boot, byte[] pcr)
            throws Exception {
        return new IncrementalImaVerifier(new CompiledPolicy(p)).verify(prev, boot, new QuotedPcr(HashAlg.SHA1, pcr),
                reader(list, IncrementalImaVerifier.startState(prev, boot, HashAlg.SHA1).nextIndex()));
    }

    @ParameterizedTest
    @EnumSource(HashAlg.class)
    void everyTemplateAndDigestPassesInBothFormats(HashAlg alg) throws Exception {
        List<ImaEntry> l = everyTemplate(alg);
        RuntimePolicy p = allowing(l, List.of(), "");
        for (byte[] list : List.of(binary(l), ascii(l))) {
            ImaVerificationResult r = verify(p, list, null, "b1", sha1Pcr(l));
            assertThat(r.failures()).isEmpty();
            assertThat(r.passed()).isTrue();
            assertThat(r.entriesMatched()).isEqualTo(l.size());
            assertThat(r.nextState().nextIndex()).isEqualTo(l.size());
            List<ImaEntry> back = reader(list, 0).readAll();
            for (int i = 0; i < l.size(); i++) {
                assertThat(back.get(i).templateData()).isEqualTo(l.get(i).templateData());
                assertThat(back.get(i).path()).isEqualTo(l.get(i).path());
                assertThat(back.get(i).template()).isEqualTo(l.get(i).template());
            }
        }
    }

    @Test
    void legacyTemplateHashesTheNamePaddedTo256Bytes() {
        ImaEntry e = ImaListWriter.legacyIma(0, new byte[20], "/x");
        assertThat(e.templateData()).hasSize(276);
        assertThat(e.templateHash()).isEqualTo(HashAlg.SHA1.digest(e.templateData()));
    }

    @Test
    void policyOutcomesCarryIndexPathTemplateAndKeylimeEventIds() throws Exception {
        HashAlg a = HashAlg.SHA256;
        List<ImaEntry> l = List.of(
                ImaListWriter.imaNg(0, a, digest(a, "ok"), "/usr/bin/ok"),
                ImaListWriter.imaNg(1, a, digest(a, "v2"), "/usr/bin/multi"),
                ImaListWriter.imaNg(2, a, digest(a, "tmp"), "/tmp/x"),
                ImaListWriter.imaNg(3, a, digest(a, "x"), "/usr/bin/unknown"),
                ImaListWriter.imaNg(4, a, digest(a, "evil"), "/usr/bin/ok"),
                ImaListWriter.violation(5, a, "/var/log/messages"),
                ImaListWriter.imaNg(6, a, digest(a, "lib"), "/var/lib/whatever"));
        String policy = new RuntimePolicyJson().writeString(allowing(List.of(l.get(0)), List.of("/tmp/", "^/var/l.g/"),
                "")).replace("\"digests\":{", "\"digests\":{\"/usr/bin/multi\":[\"" + "0".repeat(64) + "\",\""
                        + dev.outpost.ima.list.Hex.encode(digest(a, "v2")) + "\"],");
        RuntimePolicy p = new RuntimePolicyJson().read(policy.getBytes());
        ImaVerificationResult r = verify(p, binary(l), null, "b", sha1Pcr(l));
        assertThat(r.passed()).isFalse();
        assertThat(r.violations()).isEqualTo(1);
        assertThat(r.failures()).extracting(ImaFailure::index, ImaFailure::path, ImaFailure::template,
                ImaFailure::eventId).containsExactly(
                        org.assertj.core.groups.Tuple.tuple(3L, "/usr/bin/unknown", "ima-ng",
                                "ima.validation.ima-ng.not_in_allowlist"),
                        org.assertj.core.groups.Tuple.tuple(4L, "/usr/bin/ok", "ima-ng",
                                "ima.validation.ima-ng.runtime_policy_hash"),
                        // "^/var/l.g/" is a regex: it excludes /var/log/ but not /var/lib/.
                        org.assertj.core.groups.Tuple.tuple(6L, "/var/lib/whatever", "ima-ng",
                                "ima.validation.ima-ng.not_in_allowlist"));
        assertThat(r.nextState().nextIndex()).isZero();
    }

    @Test
    void tamperedTemplateHashFailsEvenWhenThePcrIsRecomputed() throws Exception {
        List<ImaEntry> l = new ArrayList<>(everyTemplate(HashAlg.SHA1));
        byte[] h = l.get(2).templateHash().clone();
        h[0] ^= 1;
        l.set(2, l.get(2).withTemplateHash(h));
        ImaVerificationResult r = verify(allowing(l, List.of(), ""), binary(l), null, "b", sha1Pcr(l));
        assertThat(r.failures()).extracting(ImaFailure::eventId).containsExactly(EventIds.TEMPLATE_HASH);
    }

    @Test
    void removedOrReorderedEntriesDoNotMatchTheQuote() throws Exception {
        List<ImaEntry> l = everyTemplate(HashAlg.SHA256);
        RuntimePolicy p = allowing(l, List.of(), "");
        List<ImaEntry> removed = new ArrayList<>(l);
        removed.remove(2);
        ImaVerificationResult r = verify(p, binary(renumber(removed)), null, "b", sha1Pcr(l));
        assertThat(r.passed()).isFalse();
        assertThat(r.failures()).extracting(ImaFailure::eventId).containsExactly(EventIds.PCR_MISMATCH);
        List<ImaEntry> swapped = new ArrayList<>(l);
        swapped.set(2, l.get(3));
        swapped.set(3, l.get(2));
        assertThat(verify(p, ascii(renumber(swapped)), null, "b", sha1Pcr(l)).failures())
                .extracting(ImaFailure::eventId).containsExactly(EventIds.PCR_MISMATCH);
    }

    private static List<ImaEntry> renumber(List<ImaEntry> l) {
        List<ImaEntry> out = new ArrayList<>();
        for (int i = 0; i < l.size(); i++) {
            out.add(l.get(i).withIndex(i));
        }
        return out;
    }

    @Test
    void violationsExtendAllOnesInEveryBankAndBothVariants() throws Exception {
        HashAlg a = HashAlg.SHA256;
        List<ImaEntry> l = List.of(ImaListWriter.imaNg(0, a, digest(a, "x"), "/x"),
                ImaListWriter.violation(1, a, "/tmp/open-for-write"));
        byte[] ones20 = new byte[20];
        Arrays.fill(ones20, (byte) 0xff);
        byte[] expected = HashAlg.SHA1.extend(HashAlg.SHA1.extend(new byte[20], l.get(0).templateHash()), ones20);
        assertThat(sha1Pcr(l)).isEqualTo(expected);
        RuntimePolicy p = allowing(l, List.of("/tmp/"), "");
        for (ReplayVariant v : ReplayVariant.values()) {
            byte[] quote = pcr(l, HashAlg.SHA256, v);
            ImaVerificationResult r = new IncrementalImaVerifier(new CompiledPolicy(p)).verify(null, "b",
                    new QuotedPcr(HashAlg.SHA256, quote), reader(binary(l), 0));
            assertThat(r.passed()).as(v.name()).isTrue();
            assertThat(r.variant()).isEqualTo(v);
            assertThat(r.violations()).isEqualTo(1);
        }
    }

    @Test
    void imaSigWithEcAndRsaKeysFromThePolicy() throws Exception {
        KeyPair ec = ec();
        KeyPair rsa = rsa();
        KeyPair stranger = ec();
        HashAlg a = HashAlg.SHA256;
        byte[] d1 = digest(a, "one");
        byte[] d2 = digest(a, "two");
        byte[] d3 = digest(a, "three");
        byte[] badSig = imaSig(ec, a, d1);
        List<ImaEntry> l = List.of(
                ImaListWriter.imaSig(0, a, d1, "/usr/bin/ec-signed", imaSig(ec, a, d1)),
                ImaListWriter.imaSig(1, a, d2, "/usr/bin/rsa-signed", imaSig(rsa, a, d2)),
                ImaListWriter.imaSig(2, a, d3, "/usr/bin/wrong-file", badSig),
                ImaListWriter.imaSig(3, a, d3, "/usr/bin/untrusted", imaSig(stranger, a, d3)),
                ImaListWriter.imaSig(4, HashAlg.SHA1, digest(HashAlg.SHA1, "z"), "/usr/bin/alg-mismatch",
                        imaSig(ec, a, d1)));
        RuntimePolicy p = allowing(List.of(), List.of(), keysJson(ec.getPublic(), rsa.getPublic()));
        ImaVerificationResult r = verify(p, binary(l), null, "b", sha1Pcr(l));
        assertThat(r.failures()).extracting(ImaFailure::index, ImaFailure::eventId).containsExactly(
                org.assertj.core.groups.Tuple.tuple(2L, "ima.validation.ima-sig.invalid_signature"),
                org.assertj.core.groups.Tuple.tuple(3L, "ima.validation.ima-sig.invalid_signature"),
                org.assertj.core.groups.Tuple.tuple(4L, "ima.validation.ima-sig.invalid_signature"));
        assertThat(r.failures().get(0).message()).contains("bad signature by key");
        assertThat(r.failures().get(1).message()).contains("no trusted key with id");
    }

    @Test
    void keysMeasuredOntoDotImaAreLearnedAndPersistAcrossCalls() throws Exception {
        KeyPair k = ec();
        HashAlg a = HashAlg.SHA256;
        ImaEntry keyEntry = ImaListWriter.imaBuf(0, a, ".ima", k.getPublic().getEncoded());
        ImaEntry otherRing = ImaListWriter.imaBuf(1, a, ".evm", rsa().getPublic().getEncoded());
        byte[] d = digest(a, "signed");
        ImaEntry signed = ImaListWriter.imaSig(2, a, d, "/usr/bin/signed", imaSig(k, a, d));
        RuntimePolicy p = allowing(List.of(keyEntry, otherRing), List.of(), "");
        List<ImaEntry> all = List.of(keyEntry, otherRing, signed);

        ImaVerificationResult first = verify(p, binary(all.subList(0, 2)), null, "b", sha1Pcr(all.subList(0, 2)));
        assertThat(first.passed()).isTrue();
        assertThat(first.nextState().learnedKeys()).hasSize(1);
        ImaState stored = ImaStateCodec.decode(ImaStateCodec.encode(first.nextState()));
        ImaVerificationResult second = verify(p, binary(all.subList(2, 3)), stored, "b", sha1Pcr(all));
        assertThat(second.failures()).isEmpty();
        assertThat(second.firstIndex()).isEqualTo(2);

        RuntimePolicy noKeyring = allowing(List.of(), List.of(), "");
        ImaVerificationResult unlisted = verify(noKeyring, binary(all), null, "b", sha1Pcr(all));
        assertThat(unlisted.failures()).extracting(ImaFailure::eventId).contains(
                "ima.validation.ima-buf.not_in_allowlist", "ima.validation.ima-sig.invalid_signature");
    }

    @Test
    void incrementalVerificationPrefixMatchingAndResetOnRebootOrFailure() throws Exception {
        HashAlg a = HashAlg.SHA1;
        List<ImaEntry> l = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            l.add(ImaListWriter.imaNg(i, a, digest(a, "f" + i), "/f" + i));
        }
        RuntimePolicy p = allowing(l, List.of(), "");
        // The quote lags the list: it covers 4 entries, the device sent 6.
        ImaVerificationResult r1 = verify(p, binary(l.subList(0, 6)), null, "boot-1", sha1Pcr(l.subList(0, 4)));
        assertThat(r1.passed()).isTrue();
        assertThat(r1.entriesRead()).isEqualTo(6);
        assertThat(r1.entriesMatched()).isEqualTo(4);
        assertThat(r1.nextState().nextIndex()).isEqualTo(4);
        // Next call: the device sends from index 4.
        ImaVerificationResult r2 = verify(p, binary(l.subList(4, 10)), r1.nextState(), "boot-1", sha1Pcr(l));
        assertThat(r2.passed()).isTrue();
        assertThat(r2.entriesMatched()).isEqualTo(6);
        assertThat(r2.nextState().nextIndex()).isEqualTo(10);
        // Nothing new, same PCR: passes with zero entries.
        ImaVerificationResult r3 = verify(p, new byte[0], r2.nextState(), "boot-1", sha1Pcr(l));
        assertThat(r3.passed()).isTrue();
        assertThat(r3.entriesMatched()).isZero();
        // A reboot starts over from entry 0.
        assertThat(IncrementalImaVerifier.startState(r3.nextState(), "boot-2", HashAlg.SHA1).nextIndex()).isZero();
        ImaVerificationResult r4 = verify(p, binary(l.subList(0, 3)), r3.nextState(), "boot-2", sha1Pcr(l.subList(0, 3)));
        assertThat(r4.passed()).isTrue();
        assertThat(r4.nextState().nextIndex()).isEqualTo(3);
        // Entries numbered from the wrong offset are refused and the state resets.
        ImaVerificationResult r5 = new IncrementalImaVerifier(new CompiledPolicy(p)).verify(r4.nextState(), "boot-2",
                new QuotedPcr(HashAlg.SHA1, sha1Pcr(l)), reader(binary(l), 0));
        assertThat(r5.passed()).isFalse();
        assertThat(r5.inputError()).isTrue();
        assertThat(r5.nextState().nextIndex()).isZero();
    }

    @Test
    void excludesAreAnchoredAtTheStartOfThePath() {
        ExcludeMatcher m = new ExcludeMatcher(List.of("/tmp/.*", "^/var/log/", "boot_aggre(g)?ate", ".*\\.pyc$",
                "/opt/a?b"));
        assertThat(m.excluded("/tmp/x")).isTrue();
        assertThat(m.excluded("/home/tmp/x")).isFalse();
        assertThat(m.excluded("/var/log/a")).isTrue();
        assertThat(m.excluded("/x/var/log/a")).isFalse();
        assertThat(m.excluded("boot_aggreate")).isTrue();
        assertThat(m.excluded("/usr/lib/a.pyc")).isTrue();
        assertThat(m.excluded("/opt/b")).isTrue();
        assertThat(ExcludeMatcher.literalPrefix("/opt/a?b")).isEqualTo("/opt/");
        assertThat(ExcludeMatcher.literalPrefix("\\/usr\\.x.*")).isEqualTo("/usr.x");
        assertThat(ExcludeMatcher.literalPrefix("a|b")).isEmpty();
    }

    @Test
    void asciiListOfANonSha1BankCarriesThatBanksTemplateHashes() throws Exception {
        for (HashAlg bank : List.of(HashAlg.SHA256, HashAlg.SM3_256, HashAlg.SHA384)) {
            List<ImaEntry> l = new ArrayList<>();
            for (ImaEntry e : everyTemplate(HashAlg.SHA256)) {
                l.add(e.withTemplateHash(bank.digest(e.templateData())));
            }
            byte[] quote = pcr(l, bank, ReplayVariant.NATIVE);
            ImaVerificationResult r = new IncrementalImaVerifier(new CompiledPolicy(allowing(l, List.of(), "")))
                    .verify(null, "b", new QuotedPcr(bank, quote), reader(ascii(l), 0));
            assertThat(r.failures()).as(bank.tpmName()).isEmpty();
            byte[] tampered = ascii(l);
            tampered[tampered.length - 2] ^= 1;
            assertThat(new IncrementalImaVerifier(new CompiledPolicy(allowing(l, List.of(), "")))
                    .verify(null, "b", new QuotedPcr(bank, quote), reader(tampered, 0)).passed()).isFalse();
        }
    }

    @Test
    void catastrophicBacktrackingIsCutOffAndFailsClosed() {
        ExcludeMatcher m = new ExcludeMatcher(List.of("/x/(a+)+$"));
        long t0 = System.nanoTime();
        assertThat(m.excluded("/x/" + "a".repeat(40) + "!")).isFalse();
        assertThat(System.nanoTime() - t0).isLessThan(5_000_000_000L);
        assertThat(m.excluded("/x/aaa")).isTrue();
    }

    @Test
    void templateDataIsTheSameForEveryTemplateInBothFormats() throws Exception {
        for (ImaTemplate t : ImaTemplate.values()) {
            assertThat(everyTemplate(HashAlg.SHA1)).anyMatch(e -> e.template() == t);
        }
    }
}
