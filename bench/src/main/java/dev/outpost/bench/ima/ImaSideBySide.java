package dev.outpost.bench.ima;

import java.io.BufferedWriter;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Writer;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

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
import dev.outpost.ima.verify.CompiledPolicy;
import dev.outpost.ima.verify.ImaVerificationResult;
import dev.outpost.ima.verify.IncrementalImaVerifier;
import dev.outpost.ima.verify.QuotedPcr;
import dev.outpost.tpm.HashAlg;

/**
 * Our half of the Keylime side-by-side (bench/keylime/compare-ima.sh). Why a main and not JMH: the comparison needs
 * the workload written to files that Keylime's Python verifier reads byte for byte, and verdicts on tampered lists
 * checked in the same run; JMH would also not fit the script's two-minute budget. Two commands:
 * <ul>
 * <li>{@code generate --out DIR --sizes 10000,100000 [--bank sha256] [--paths N]}: a Keylime runtime policy covering every file
 * (N paths, the list cycling over them; by default one path per entry of the longest list),
 * ASCII ima-ng sha256 lists ({@code list-N.ascii}) with the quoted PCR 10 of each ({@code list-N.ascii.pcr}, hex),
 * and tampered copies of the smallest list, {@code tamper-KIND.ascii}, each of which one check alone must catch.</li>
 * <li>{@code run --policy F [--bank sha256] [--warmup-seconds 3] [--min-seconds 1] [--runs 5] [--tampered F]...
 * LIST...}: the appliance's attestation path (cached {@link CompiledPolicy}, {@link IncrementalImaVerifier#verify}
 * from entry 0 on an in-memory list, PCR 10 prefix match), JIT warmed first; one JSON line per list with the median
 * time of at least {@code --runs} runs and {@code --min-seconds}; tampered lists are verified once, for the verdict.</li>
 * </ul>
 */
public final class ImaSideBySide {
    static final List<String> EXCLUDES = List.of("/tmp/.*", "/var/log/", "^/proc/");

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            throw new IllegalArgumentException("usage: generate|run ...");
        }
        List<String> rest = new ArrayList<>(Arrays.asList(args).subList(1, args.length));
        HashAlg bank = HashAlg.fromName(opt(rest, "--bank", "sha256")).orElseThrow();
        switch (args[0]) {
            case "generate" -> generate(Path.of(opt(rest, "--out", null)), opt(rest, "--sizes", "10000,100000"), bank,
                    Integer.parseInt(opt(rest, "--paths", "0")));
            case "run" -> {
                Path policy = Path.of(opt(rest, "--policy", null));
                double warmup = Double.parseDouble(opt(rest, "--warmup-seconds", "3"));
                double min = Double.parseDouble(opt(rest, "--min-seconds", "1"));
                int runs = Integer.parseInt(opt(rest, "--runs", "5"));
                List<String> tampered = new ArrayList<>();
                for (String t = opt(rest, "--tampered", ""); !t.isEmpty(); t = opt(rest, "--tampered", "")) {
                    tampered.add(t);
                }
                run(policy, bank, warmup, min, runs, rest, tampered);
            }
            default -> throw new IllegalArgumentException("unknown command " + args[0]);
        }
    }

    private static String opt(List<String> args, String name, String dflt) {
        int i = args.indexOf(name);
        if (i < 0) {
            if (dflt == null) {
                throw new IllegalArgumentException(name + " is required");
            }
            return dflt;
        }
        String v = args.get(i + 1);
        args.subList(i, i + 2).clear();
        return v;
    }

    // ---- workload ----

    static byte[] sha256(String s) {
        return HashAlg.SHA256.digest(s.getBytes(StandardCharsets.UTF_8));
    }

    static String path(int i) {
        return "/usr/lib/x86_64-linux-gnu/pkg-" + (i % 997) + "/lib" + i + ".so." + (i % 7);
    }

    /**
     * @param paths policy size (boot_aggregate included); 0 for one path per entry. A smaller policy makes the list
     *              measure its files over again in turn, which gives a list longer than the policy, as issue 12's
     *              500,000 entries against 100,000 paths.
     */
    private static void generate(Path out, String sizeList, HashAlg bank, int paths) throws IOException {
        int[] sizes = Arrays.stream(sizeList.split(",")).mapToInt(Integer::parseInt).sorted().toArray();
        int max = sizes[sizes.length - 1];
        int files = paths > 1 ? paths - 1 : max - 1;
        Files.createDirectories(out);
        byte[] bootAggregate = sha256("side-by-side boot_aggregate");
        List<ImaEntry> all = new ArrayList<>(max);
        all.add(ImaListWriter.imaNg(0, HashAlg.SHA256, bootAggregate, "boot_aggregate"));
        RuntimePolicyBuilder b = new RuntimePolicyBuilder(EXCLUDES, HashAlg.SHA256);
        b.addFile("boot_aggregate", bootAggregate);
        byte[][] digests = new byte[files][];
        for (int i = 0; i < files; i++) {
            digests[i] = sha256("content of " + path(i));
            b.addFile(path(i), digests[i]);
        }
        for (int i = 0; i < max - 1; i++) {
            all.add(ImaListWriter.imaNg(all.size(), HashAlg.SHA256, digests[i % files], path(i % files)));
        }
        Files.writeString(out.resolve("policy.json"), new RuntimePolicyJson().writeString(b.build()));
        for (int n : sizes) {
            write(out.resolve("list-" + n + ".ascii"), all.subList(0, n), bank, null);
        }
        // Tampered copies of the smallest list; the file name says which single check must catch it.
        List<ImaEntry> small = all.subList(0, sizes[0]);
        int mid = small.size() / 2;
        byte[] goodPcr = pcr(small, bank);
        List<ImaEntry> t = new ArrayList<>(small);
        // An honest kernel measured a modified library: consistent template hash, PCR matches, digest unknown.
        String victim = small.get(mid).path();
        t.set(mid, ImaListWriter.imaNg(mid, HashAlg.SHA256, sha256("trojaned " + victim), victim));
        write(out.resolve("tamper-policy.ascii"), t, bank, null);
        // Same, for a file the policy does not list at all.
        t = new ArrayList<>(small);
        t.set(mid, ImaListWriter.imaNg(mid, HashAlg.SHA256, sha256("dropper"), "/usr/bin/dropper"));
        write(out.resolve("tamper-unlisted.ascii"), t, bank, null);
        // The log's template-hash column edited, template data intact: only the template-hash check sees it.
        t = new ArrayList<>(small);
        byte[] th = small.get(mid).templateHash().clone();
        th[0] ^= 1;
        t.set(mid, small.get(mid).withTemplateHash(th));
        write(out.resolve("tamper-template.ascii"), t, bank, goodPcr);
        // An entry removed from the log after the TPM was extended: only the PCR 10 replay sees it.
        t = new ArrayList<>(small);
        t.remove(mid);
        write(out.resolve("tamper-pcr.ascii"), t, bank, goodPcr);
    }

    private static byte[] pcr(List<ImaEntry> entries, HashAlg bank) {
        // The kernel extends each bank with that bank's hash of the template data (its native replay).
        PcrReplay r = new PcrReplay(bank, HashAlg.SHA1);
        entries.forEach(r::extend);
        return r.value(ReplayVariant.NATIVE);
    }

    /** The list as ascii_runtime_measurements, and the PCR 10 a quote reports ({@code quoted}, else the list's own). */
    private static void write(Path f, List<ImaEntry> entries, HashAlg bank, byte[] quoted) throws IOException {
        try (Writer w = new BufferedWriter(Files.newBufferedWriter(f, StandardCharsets.UTF_8), 1 << 16)) {
            for (ImaEntry e : entries) {
                ImaListWriter.writeAscii(w, e);
            }
        }
        Files.writeString(Path.of(f + ".pcr"), Hex.encode(quoted != null ? quoted : pcr(entries, bank)) + "\n");
    }

    // ---- timing ----

    private static void run(Path policyFile, HashAlg bank, double warmupSeconds, double minSeconds, int runs,
            List<String> good, List<String> tampered) throws IOException {
        List<String> lists = new ArrayList<>(good);
        lists.addAll(tampered);
        byte[] policyBytes = Files.readAllBytes(policyFile);
        long t0 = System.nanoTime();
        CompiledPolicy policy = CompiledPolicy.load(PolicyLoader.unsigned(), policyBytes);
        double coldLoadMs = (System.nanoTime() - t0) / 1e6;
        List<byte[]> data = new ArrayList<>();
        List<QuotedPcr> quotes = new ArrayList<>();
        for (String l : lists) {
            data.add(Files.readAllBytes(Path.of(l)));
            quotes.add(new QuotedPcr(bank, Hex.decodeOrNull(Files.readString(Path.of(l + ".pcr")).trim())));
        }
        // Warm the JIT on every list (good and tampered), so no list is timed on colder code than another: for at
        // least warmupSeconds and five rounds, and until a whole round compiled nothing. A 3 s warm-up alone was not
        // enough while other work shared the two cores: the 10,000-entry list, timed first, ran at a fifth of its
        // speed in thread CPU time, most likely on code the starved compiler threads had not finished optimising.
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        long start = System.nanoTime();
        long end = start + (long) (warmupSeconds * 1e9);
        long cap = start + (long) (Math.max(30, 3 * warmupSeconds) * 1e9);
        long jitMs = -1;
        int rounds = 0;
        boolean quiet = false;
        while (System.nanoTime() < cap) {
            for (int i = 0; i < lists.size(); i++) {
                verify(policy, data.get(i), quotes.get(i));
            }
            rounds++;
            long now = jit.getTotalCompilationTime();
            if (System.nanoTime() >= end && rounds >= 5 && now == jitMs) {
                quiet = true;
                break;
            }
            jitMs = now;
        }
        System.out.printf(Locale.ROOT, "{\"verifier\":\"outpost\",\"warmup_s\":%.1f,\"warmup_rounds\":%d,\"jit_quiet\":%s}%n",
                (System.nanoTime() - start) / 1e9, rounds, quiet);
        // Wall time, and this thread's CPU time, which other work on a shared box inflates much less (JIT and GC
        // threads are not counted in it).
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (int i = 0; i < lists.size(); i++) {
            List<Long> ns = new ArrayList<>();
            List<Long> cpu = new ArrayList<>();
            long spent = 0;
            ImaVerificationResult r = null;
            boolean timed = i < good.size();
            while (ns.isEmpty() || timed && (ns.size() < runs || spent < minSeconds * 1e9)) {
                long c0 = threads.getCurrentThreadCpuTime();
                long s0 = System.nanoTime();
                r = verify(policy, data.get(i), quotes.get(i));
                long dt = System.nanoTime() - s0;
                cpu.add(threads.getCurrentThreadCpuTime() - c0);
                ns.add(dt);
                spent += dt;
            }
            ns.sort(null);
            cpu.sort(null);
            double median = ns.get(ns.size() / 2) / 1e9;
            double cpuMedian = cpu.get(cpu.size() / 2) / 1e9;
            String failure = r.failures().isEmpty() ? ""
                    : r.failures().get(0).eventId() + ": " + r.failures().get(0).message();
            StringBuilder ids = new StringBuilder();
            r.failures().forEach(f -> ids.append(ids.isEmpty() ? "\"" : ",\"").append(f.eventId()).append('"'));
            System.out.printf(Locale.ROOT, "{\"verifier\":\"outpost\",\"list\":\"%s\",\"entries\":%d,\"passed\":%s,"
                    + "\"runs\":%d,\"median_s\":%.6f,\"best_s\":%.6f,\"cpu_median_s\":%.6f,\"entries_per_s\":%.0f,"
                    + "\"entries_per_cpu_s\":%.0f,\"failure_ids\":[%s],\"failure\":\"%s\"}%n",
                    Path.of(lists.get(i)).getFileName(), r.entriesRead(), r.passed(), ns.size(), median, ns.get(0) / 1e9,
                    cpuMedian, r.entriesRead() / median, r.entriesRead() / cpuMedian, ids, failure.replace("\\", "\\\\").replace("\"", "'"));
        }
        // Policy load + compile, cold (first in this JVM) and warm (best of five more): once per policy in the
        // appliance (PolicyCache), so it is reported apart from the per-attestation time.
        long warm = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            t0 = System.nanoTime();
            CompiledPolicy.load(PolicyLoader.unsigned(), policyBytes);
            warm = Math.min(warm, System.nanoTime() - t0);
        }
        System.out.printf(Locale.ROOT,
                "{\"verifier\":\"outpost\",\"policy_load_ms_first\":%.1f,\"policy_load_ms\":%.1f}%n", coldLoadMs, warm / 1e6);
    }

    /** As AttestationService does it per attestation, for a device's first quote since boot. */
    private static ImaVerificationResult verify(CompiledPolicy policy, byte[] list, QuotedPcr quote) throws IOException {
        return new IncrementalImaVerifier(policy).verify(null, "boot",
                quote, ImaLists.open(new ByteArrayInputStream(list), ImaLimits.DEFAULT, 0));
    }
}
