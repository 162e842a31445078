package dev.outpost.bench;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import dev.outpost.ima.list.BinaryImaListReader;
import dev.outpost.ima.list.Hex;
import dev.outpost.ima.list.ImaEntry;
import dev.outpost.ima.list.ImaEntryReader;
import dev.outpost.ima.list.ImaLimits;
import dev.outpost.ima.list.ImaListWriter;
import dev.outpost.ima.policy.ImaSettings;
import dev.outpost.ima.policy.RuntimePolicy;
import dev.outpost.ima.policy.PolicyLoader;
import dev.outpost.ima.policy.RuntimePolicyJson;
import dev.outpost.ima.replay.PcrReplay;
import dev.outpost.ima.replay.ReplayVariant;
import dev.outpost.ima.verify.CompiledPolicy;
import dev.outpost.ima.verify.ImaVerificationResult;
import dev.outpost.ima.verify.IncrementalImaVerifier;
import dev.outpost.ima.verify.QuotedPcr;
import dev.outpost.tpm.HashAlg;

/**
 * IMA verification throughput: parse + template hash + PCR 10 replay + policy lookup for a 10,000-entry ima-ng
 * sha256 binary list against a 100,000-path policy (score × 10,000 = entries/s), and policy load time.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ImaBenchmark {
    static final int ENTRIES = 10_000;
    static final int PATHS = 100_000;

    byte[] list;
    byte[] policyJson;
    IncrementalImaVerifier verifier;
    QuotedPcr quote;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        HashAlg a = HashAlg.SHA256;
        List<ImaEntry> entries = new ArrayList<>(ENTRIES);
        Map<String, List<String>> digests = new LinkedHashMap<>();
        for (int i = 0; i < PATHS; i++) {
            String path = "/usr/lib64/package-" + (i % 997) + "/lib" + i + ".so." + (i % 7);
            byte[] d = a.digest(path.getBytes(StandardCharsets.UTF_8));
            digests.put(path, List.of(Hex.encode(d)));
            if (i % (PATHS / ENTRIES) == 0) {
                entries.add(ImaListWriter.imaNg(entries.size(), a, d, path));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PcrReplay replay = new PcrReplay(HashAlg.SHA1, HashAlg.SHA1);
        for (ImaEntry e : entries) {
            ImaListWriter.writeBinary(out, e);
            replay.extend(e);
        }
        list = out.toByteArray();
        quote = new QuotedPcr(HashAlg.SHA1, replay.value(ReplayVariant.NATIVE));
        RuntimePolicy p = new RuntimePolicy(1, 3, null, 0, digests, List.of("/tmp/.*", "/var/log/", "^/proc/"),
                Map.of(), ImaSettings.DEFAULT, Map.of(), "");
        policyJson = new RuntimePolicyJson().write(p);
        verifier = new IncrementalImaVerifier(CompiledPolicy.load(PolicyLoader.unsigned(), policyJson));
        ImaVerificationResult r = verify();
        if (!r.passed() || r.entriesMatched() != ENTRIES) {
            throw new IllegalStateException("benchmark list does not verify: " + r.failures());
        }
    }

    @Benchmark
    @OperationsPerInvocation(ENTRIES)
    public ImaVerificationResult verifyEntries() throws IOException {
        return verify();
    }

    private ImaVerificationResult verify() throws IOException {
        ImaEntryReader r = new BinaryImaListReader(new ByteArrayInputStream(list), ImaLimits.DEFAULT, HashAlg.SHA1, 0);
        return verifier.verify(null, "boot", quote, r);
    }

    @Benchmark
    @OperationsPerInvocation(ENTRIES)
    public long parseOnly() throws IOException {
        ImaEntryReader r = new BinaryImaListReader(new ByteArrayInputStream(list), ImaLimits.DEFAULT, HashAlg.SHA1, 0);
        long n = 0;
        for (ImaEntry e = r.next(); e != null; e = r.next()) {
            n += e.path().length();
        }
        return n;
    }

    /** Reads, validates and compiles the 100,000-path policy: score is loads per second. */
    @Benchmark
    public CompiledPolicy loadPolicy100k() {
        // The appliance's path (PolicyCache, verify ima): compiled from the JSON tokens, no model in between.
        return CompiledPolicy.load(PolicyLoader.unsigned(), policyJson);
    }
}
