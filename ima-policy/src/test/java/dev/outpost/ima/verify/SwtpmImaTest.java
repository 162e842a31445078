package dev.outpost.ima.verify;

import static dev.outpost.ima.verify.Fixtures.binary;
import static dev.outpost.ima.verify.Fixtures.digest;
import static dev.outpost.ima.verify.Fixtures.reader;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.outpost.ima.list.ImaEntry;
import dev.outpost.ima.list.ImaListWriter;
import dev.outpost.ima.replay.ReplayVariant;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.pcr.Pcrs;
import dev.outpost.tpm.wire.PcrSelection;
import dev.outpost.tpm.wire.PcrValues;

/** A log written to a swtpm's PCR 10 as the kernel would replays to that PCR, in both banks. */
@ExtendWith(SwtpmExtension.class)
class SwtpmImaTest {

    @Test
    void kernelStyleExtendsReplayToTheTpmsPcr10(Swtpm swtpm) throws Exception {
        HashAlg a = HashAlg.SHA256;
        List<ImaEntry> list = List.of(
                ImaListWriter.imaNg(0, a, digest(a, "boot aggregate"), "boot_aggregate"),
                ImaListWriter.imaNg(1, a, digest(a, "init"), "/usr/lib/systemd/systemd"),
                ImaListWriter.imaNg(2, a, digest(a, "libc"), "/usr/lib64/libc.so.6"),
                ImaListWriter.violation(3, a, "/var/log/journal/open-writers"),
                ImaListWriter.imaNg(4, a, digest(a, "sshd"), "/usr/sbin/sshd"));

        PcrValues fromTpm;
        try (Tpm2 tpm = Tpm2.open(swtpm.uri())) {
            for (ImaEntry e : list) {
                Pcrs.extend(tpm, IncrementalImaVerifier.IMA_PCR, kernelDigests(e));
            }
            fromTpm = Pcrs.read(tpm, PcrSelection.parse("sha1:10+sha256:10"));
        }
        byte[] sha1 = fromTpm.get(HashAlg.SHA1, 10).orElseThrow();
        byte[] sha256 = fromTpm.get(HashAlg.SHA256, 10).orElseThrow();
        // Like Keylime's verifier by default, ours does not judge a violation's path: the policy need not know it.
        IncrementalImaVerifier v = new IncrementalImaVerifier(new CompiledPolicy(
                Fixtures.allowing(list.stream().filter(e -> !e.isViolation()).toList(), List.of(), "")));

        ImaVerificationResult r1 = v.verify(null, "boot-1", new QuotedPcr(HashAlg.SHA1, sha1),
                reader(binary(list), 0));
        assertThat(r1.failures()).isEmpty();
        assertThat(r1.passed()).isTrue();
        assertThat(r1.entriesMatched()).isEqualTo(list.size());
        assertThat(r1.violations()).isEqualTo(1);
        assertThat(r1.replayedPcr()).isEqualTo(sha1);

        ImaVerificationResult r256 = v.verify(null, "boot-1", new QuotedPcr(HashAlg.SHA256, sha256),
                reader(binary(list), 0));
        assertThat(r256.failures()).isEmpty();
        assertThat(r256.passed()).isTrue();
        assertThat(r256.entriesMatched()).isEqualTo(list.size());
        assertThat(r256.replayedPcr()).isEqualTo(sha256);
        // Current kernels extend non-SHA-1 banks with the bank's own hash of the template data.
        assertThat(r256.variant()).isEqualTo(ReplayVariant.NATIVE);
    }

    /**
     * What ima_pcr_extend hands the TPM: the SHA-1 template hash for the SHA-1 bank, the bank's hash of the
     * template data for every other bank, and all ones of the bank's size for a violation (whose logged template
     * hash is zero, so that a verifier cannot confuse it with a measurement).
     */
    private static Map<HashAlg, byte[]> kernelDigests(ImaEntry e) {
        Map<HashAlg, byte[]> d = new LinkedHashMap<>();
        if (e.isViolation()) {
            d.put(HashAlg.SHA1, ones(20));
            d.put(HashAlg.SHA256, ones(32));
        } else {
            d.put(HashAlg.SHA1, e.templateHash());
            d.put(HashAlg.SHA256, HashAlg.SHA256.digest(e.templateData()));
        }
        return d;
    }

    private static byte[] ones(int n) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) 0xFF);
        return b;
    }
}
