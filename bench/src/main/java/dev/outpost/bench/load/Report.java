package dev.outpost.bench.load;

import java.util.List;
import java.util.Map;

/** The run's figures as text: what an operator sizing a site reads. */
final class Report {
    private final String text;

    Report(LoadOptions o, Scenario scenario, int devices, int enrolled, double keygenSeconds, Phase enroll, Phase main,
            SiteRun run, long dbBefore, long dbEnrolled, long dbAfter, Map<String, String> mismatches) {
        Stats enrollStats = run.enrollStats();
        Stats attestStats = run.attestStats();
        Stats reconnectStats = run.reconnectStats();
        int skipped = run.skipped().get();
        int renewals = run.renewals().get();
        StringBuilder b = new StringBuilder();
        int cores = Runtime.getRuntime().availableProcessors();
        b.append(String.format("Outpost load run: scenario %s, %d devices (%d misbehaving), %s, %d worker threads, %d cores%n",
                o.scenario(), devices, countBad(o, devices), o.broker().equals("mosquitto")
                        ? "through Mosquitto (appliance in broker mode)" : "embedded MQTT endpoint", o.threads(), cores));
        b.append(String.format("appliance JVM: %s; generator in its own JVM on the same cores%n",
                o.applianceJvm().isEmpty() ? "defaults" : String.join(" ", o.applianceJvm())));
        b.append(scenario.describe(o));
        b.append(String.format("device setup (%s EK + P-256 AK + EK cert, not measured): %.1f s%n",
                o.ek() == SoftwareTpm.EkKind.RSA ? "RSA 2048" : "ECC P-256", keygenSeconds));

        b.append(String.format("%nenrollment: %d of %d in %.2f s = %.1f enrollments/s%n", enrolled, devices,
                enroll.wallSeconds(), enrolled / enroll.wallSeconds()));
        latency(b, "  enroll (enroll + activate + SVID + label + mTLS reconnect)", enrollStats.sortedLatencies());
        cpu(b, enroll, enrolled, "enrollment");

        int n = attestStats.count();
        b.append(String.format("%nattestation: %d in %.2f s = %.1f attestations/s%n", n, main.wallSeconds(),
                n / main.wallSeconds()));
        latency(b, "  challenge to verdict", attestStats.sortedLatencies());
        latency(b, "  device's tick to verdict (the generator's queueing included)", run.fromTick().sortedLatencies());
        latency(b, "    tick to challenge request (a free generator thread, new IMA entries)", run.stages().queue());
        latency(b, "    challenge round trip", run.stages().challenge());
        latency(b, "    device: quote and evidence", run.stages().device());
        latency(b, "    evidence round trip (verdict)", run.stages().evidence());
        // The phase's first seconds carry the steady path's JIT and the backlog it leaves; a site lives in the rest.
        double half = main.wallSeconds() / 2;
        latency(b, String.format("  second half (%.0f-%.0f s), challenge to verdict", half, main.wallSeconds()),
                attestStats.latenciesEndingAfter(half));
        latency(b, String.format("  second half (%.0f-%.0f s), device's tick to verdict", half, main.wallSeconds()),
                run.fromTick().latenciesEndingAfter(half));
        gcPauses(b, run, attestStats, half, main.wallSeconds());
        if (scenario.reconnectLatency() != null) {
            latency(b, "  " + scenario.reconnectLatency(), reconnectStats.sortedLatencies());
        }
        if (skipped > 0) {
            b.append(String.format("  %d ticks skipped: the device's previous attestation had not finished%n", skipped));
        }
        cpu(b, main, n, "attestation");
        warmed(b, main.samples());
        // MVStore keeps superseded chunks for its retention time (45 s) before reusing their space, so sizes
        // taken within a minute of heavy writing overstate what stays.
        b.append(String.format("  H2 file: %d KiB empty, %d KiB with the devices enrolled and attested once (%.1f KiB per"
                + " device), %d KiB at the end (%+.1f MiB over this phase)%n", dbBefore >> 10, dbEnrolled >> 10,
                (dbEnrolled - dbBefore) / 1024.0 / Math.max(1, enrolled), dbAfter >> 10, (dbAfter - dbEnrolled) / 1048576.0));
        if (!main.samples().isEmpty()) {
            b.append(String.format("  every %d s, appliance resident MiB / H2 file MiB:", Phase.SAMPLE_SECONDS));
            main.samples().forEach(s -> b.append(String.format(" %d/%d", s[1] >> 20, s[2] >> 20)));
            b.append('\n');
        }
        List<long[]> samples = main.samples();
        if (o.scenario().equals("steady") && samples.size() >= 6) {
            // The last minute only: the file first grows into MVStore's retention window and with an enrollment
            // storm's leftovers, then compaction frees and truncates; a whole-phase slope would extrapolate those.
            long[] from = samples.get(samples.size() - 6);
            long[] last = samples.get(samples.size() - 1);
            double perDay = (last[2] - from[2]) / 1048576.0 * 86_400 / Math.max(1, last[0] - from[0]);
            b.append(String.format("  H2 growth over the last %d s, extrapolated to a day: %+.0f MiB (read the samples"
                    + " above first: a run shorter than a few minutes has not settled)%n", last[0] - from[0], perDay));
        }

        b.append(String.format("%nSVIDs issued through passing attestations (probationary exchanged, renewals): %d%n",
                renewals));
        b.append(String.format("%nerrors: %d during enrollment, %d during attestation, %d reconnecting%n",
                enrollStats.errorCount(), attestStats.errorCount(), reconnectStats.errorCount()));
        enrollStats.errors().forEach((k, v) -> b.append(String.format("  %6d  %s%n", v, k)));
        attestStats.errors().forEach((k, v) -> b.append(String.format("  %6d  %s%n", v, k)));
        reconnectStats.errors().forEach((k, v) -> b.append(String.format("  %6d  %s%n", v, k)));
        b.append(String.format("%nverdicts: %d not as expected while running; final states: %s%n", run.wrongVerdicts().get(),
                mismatches.isEmpty() ? "every misbehaving device failed, every other is trusted"
                        : mismatches.size() + " devices not as expected"));
        mismatches.entrySet().stream().limit(20).forEach(e -> b.append("  ").append(e.getKey()).append(": ")
                .append(e.getValue()).append('\n'));
        text = b.toString();
    }

    private static void cpu(StringBuilder b, Phase p, int ops, String what) {
        int cores = Runtime.getRuntime().availableProcessors();
        b.append(String.format("  appliance process: %.2f s CPU = %.2f ms per %s (%.0f%% of %d cores); resident %d MiB"
                + " (peak %d MiB), %d threads%n", p.applianceCpuSeconds(), 1000 * p.applianceCpuSeconds() / Math.max(1, ops),
                what, 100 * p.applianceCpuSeconds() / p.wallSeconds() / cores, cores, p.applianceAfter().rssBytes() >> 20,
                p.applianceAfter().peakRssBytes() >> 20, p.applianceAfter().threads()));
        b.append(String.format("  generator process: %.2f s CPU = %.2f ms per %s; heap used %d MiB (%d MiB live after a"
                + " full GC), resident %d MiB (peak %d MiB), %d threads%n",
                p.generatorCpuSeconds(), 1000 * p.generatorCpuSeconds() / Math.max(1, ops), what,
                p.generatorHeapUsed() >> 20, p.generatorHeapLive() >> 20, p.generatorAfter().rssBytes() >> 20,
                p.generatorAfter().peakRssBytes() >> 20, p.generatorThreads()));
    }

    /**
     * The cost per attestation along the phase and over its second half: the appliance's JIT compiles for a minute or
     * two after it starts (a whole core at times), which a short phase's average carries.
     */
    private static void warmed(StringBuilder b, List<long[]> samples) {
        if (samples.size() < 4 || samples.get(samples.size() - 1)[5] == 0) {
            return;
        }
        b.append(String.format("  every %d s, appliance / generator CPU ms per attestation:", Phase.SAMPLE_SECONDS));
        long[] prev = {0, 0, 0, 0, 0, 0};
        for (long[] s : samples) {
            long ops = s[5] - prev[5];
            b.append(ops == 0 ? " -" : String.format(" %.2f/%.2f", (s[3] - prev[3]) / (double) ops,
                    (s[4] - prev[4]) / (double) ops));
            prev = s;
        }
        b.append('\n');
        long[] mid = samples.get(samples.size() / 2 - 1);
        long[] last = samples.get(samples.size() - 1);
        long ops = last[5] - mid[5];
        if (ops > 0) {
            b.append(String.format("  second half (%d-%d s, %d attestations): appliance %.2f ms, generator %.2f ms CPU per"
                    + " attestation%n", mid[0], last[0], ops, (last[3] - mid[3]) / (double) ops,
                    (last[4] - mid[4]) / (double) ops));
        }
    }

    private static int countBad(LoadOptions o, int devices) {
        int n = 0;
        for (int i = 0; i < devices; i++) {
            n += o.isBad(i) ? 1 : 0;
        }
        return n;
    }

    // How much of the tail is the appliance's stop-the-world pauses: the attestations that overlapped one against the
    // others, over the same second half.
    private static void gcPauses(StringBuilder b, SiteRun run, Stats attestStats, double half, double phaseSeconds) {
        GcPauses gc;
        try {
            gc = GcPauses.read(run.appliance().gcLog());
        } catch (java.io.IOException | RuntimeException e) {
            b.append(String.format("  appliance GC log not read: %s%n", e.getMessage()));
            return;
        }
        double from = attestStats.originEpochMillis() + half * 1000;
        double to = attestStats.originEpochMillis() + phaseSeconds * 1000;
        List<GcPauses.Pause> pauses = gc.between(from, to);
        if (pauses.isEmpty()) {
            return;
        }
        double total = pauses.stream().mapToDouble(GcPauses.Pause::millis).sum();
        double max = pauses.stream().mapToDouble(GcPauses.Pause::millis).max().orElse(0);
        double span = Math.max(1, to - from);
        b.append(String.format("  second half, appliance GC pauses: %d, mean %.1f ms, max %.1f ms, %.0f ms in all (%.1f %%"
                + " of the time)%n", pauses.size(), total / pauses.size(), max, total, 100 * total / span));
        long[][] split = attestStats.latenciesEndingAfterSplit(half, gc::overlaps);
        latency(b, "  second half, challenge to verdict overlapping an appliance GC pause", split[0]);
        latency(b, "  second half, challenge to verdict not overlapping one", split[1]);
    }

    private static void latency(StringBuilder b, String what, long[] sorted) {
        b.append(String.format("%s: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms (n=%d)%n", what,
                Stats.percentile(sorted, 50) / 1000.0, Stats.percentile(sorted, 90) / 1000.0,
                Stats.percentile(sorted, 99) / 1000.0, sorted.length == 0 ? 0 : sorted[sorted.length - 1] / 1000.0,
                sorted.length));
    }

    String text() {
        return text;
    }
}
