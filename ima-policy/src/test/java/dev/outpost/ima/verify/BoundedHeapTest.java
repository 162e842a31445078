package dev.outpost.ima.verify;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.BufferedWriter;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.outpost.ima.list.Hex;
import dev.outpost.ima.list.ImaEntry;
import dev.outpost.ima.list.ImaLimits;
import dev.outpost.ima.list.ImaListWriter;
import dev.outpost.ima.list.ImaLists;
import dev.outpost.ima.policy.PolicyLoader;
import dev.outpost.ima.policy.RuntimePolicyBuilder;
import dev.outpost.ima.policy.RuntimePolicyJson;
import dev.outpost.ima.replay.PcrReplay;
import dev.outpost.ima.replay.ReplayVariant;
import dev.outpost.tpm.HashAlg;

/**
 * The verifier streams: a 200,000-entry list (tens of MB as text, far more as entry objects) is verified, quote
 * prefix search included, by a child JVM whose heap is 64 MiB. Holding the list, its entries, or a PCR value per
 * entry for the prefix search would run that heap out. A child JVM because only there the heap limit is the test's.
 * No timing is asserted.
 */
class BoundedHeapTest {
    static final int ENTRIES = 200_000;
    static final int PATHS = 1_000;

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"ascii", "binary"})
    void twoHundredThousandEntriesVerifyIn64MiBOfHeap(String format) throws Exception {
        RuntimePolicyBuilder b = new RuntimePolicyBuilder(List.of("/tmp/.*"), HashAlg.SHA256);
        byte[][] digests = new byte[PATHS][];
        for (int i = 0; i < PATHS; i++) {
            digests[i] = Fixtures.digest(HashAlg.SHA256, "content " + i);
            b.addFile(path(i), digests[i]);
        }
        Path policy = dir.resolve("policy.json");
        Files.writeString(policy, new RuntimePolicyJson().writeString(b.build()));
        // Written entry by entry, with the PCR a sha256-bank quote reports, so this JVM holds no list either.
        Path list = dir.resolve("list." + format);
        PcrReplay pcr = new PcrReplay(HashAlg.SHA256, HashAlg.SHA1);
        try (OutputStream raw = new BufferedOutputStream(Files.newOutputStream(list), 1 << 16);
                Writer text = new BufferedWriter(new java.io.OutputStreamWriter(raw, StandardCharsets.UTF_8))) {
            for (int i = 0; i < ENTRIES; i++) {
                ImaEntry e = ImaListWriter.imaNg(i, HashAlg.SHA256, digests[i % PATHS], path(i % PATHS));
                pcr.extend(e);
                if (format.equals("ascii")) {
                    ImaListWriter.writeAscii(text, e);
                } else {
                    ImaListWriter.writeBinary(raw, e);
                }
            }
        }
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx64m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), Child.class.getName(),
                policy.toString(), list.toString(), Hex.encode(pcr.value(ReplayVariant.NATIVE))));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(out).contains("PASS " + ENTRIES + " " + ENTRIES);
        assertThat(p.exitValue()).as(out).isZero();
    }

    static String path(int i) {
        return "/usr/lib/pkg-" + (i % 97) + "/lib" + i + ".so";
    }

    /** What the appliance does per attestation, on a stream, from entry 0. */
    public static final class Child {
        public static void main(String[] a) throws Exception {
            CompiledPolicy policy = new CompiledPolicy(PolicyLoader.unsigned().load(Path.of(a[0])));
            try (InputStream in = new BufferedInputStream(Files.newInputStream(Path.of(a[1])), 1 << 16)) {
                ImaVerificationResult r = new IncrementalImaVerifier(policy).verify(null, "boot",
                        new QuotedPcr(HashAlg.SHA256, Hex.decodeOrNull(a[2])),
                        ImaLists.open(in, ImaLimits.DEFAULT, 0));
                System.out.println((r.passed() ? "PASS " : "FAIL ") + r.entriesRead() + " " + r.entriesMatched()
                        + " " + r.failures());
                System.exit(r.passed() ? 0 : 1);
            }
        }
    }
}
