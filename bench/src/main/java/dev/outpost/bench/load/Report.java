package dev.outpost.bench.load;

import java.util.Map;

/** The run's figures as text: what an operator sizing a site reads. */
final class Report {
    private final String text;

    Report(LoadOptions o, int devices, int enrolled, double keygenSeconds, LoadGenerator.Phase enroll,
            LoadGenerator.Phase attest, Stats enrollStats, Stats attestStats, long dbBefore, long dbAfter,
            Map<String, String> mismatches, int wrongVerdicts, int skipped) {
        StringBuilder b = new StringBuilder();
        int cores = Runtime.getRuntime().availableProcessors();
        b.append(String.format("Outpost load run: scenario %s, %d devices (%d misbehaving), %d worker threads, %d cores%n",
                o.scenario(), devices, countBad(o, devices), o.threads(), cores));
        if (o.scenario().equals("steady")) {
            b.append(String.format("steady: every device attests every %.1f s for %.0f s with %d new IMA entries each%n",
                    o.period().toMillis() / 1000.0, o.duration().toMillis() / 1000.0, o.entries()));
        } else {
            b.append(String.format("enroll-storm: all enroll at once, then one attestation round with %d new IMA entries each%n",
                    o.entries()));
        }
        b.append(String.format("device setup (RSA 2048 EK + P-256 AK + EK cert, not measured): %.1f s%n", keygenSeconds));
        b.append(String.format("%nenrollment: %d of %d in %.2f s = %.1f enrollments/s%n", enrolled, devices,
                enroll.wallSeconds(), enrolled / enroll.wallSeconds()));
        latency(b, "  enroll (enroll + activate + SVID + label + mTLS reconnect)", enrollStats.sortedLatencies());
        b.append(String.format("  CPU, whole JVM: %.2f s = %.1f ms per enrollment; appliance threads only: %.2f s = %.1f ms%n",
                enroll.cpuSeconds(), 1000 * enroll.cpuSeconds() / Math.max(1, enrolled), enroll.applianceCpuSeconds(),
                1000 * enroll.applianceCpuSeconds() / Math.max(1, enrolled)));
        int n = attestStats.count();
        b.append(String.format("%nattestation: %d in %.2f s = %.1f attestations/s%n", n, attest.wallSeconds(),
                n / attest.wallSeconds()));
        latency(b, "  challenge to verdict", attestStats.sortedLatencies());
        if (skipped > 0) {
            b.append(String.format("  %d ticks skipped: the device's previous attestation had not finished%n", skipped));
        }
        b.append(String.format("  CPU, whole JVM (appliance + generator + Paho + TLS both ends + GC/JIT): %.2f s = %.2f ms"
                + " per attestation (%.0f%% of %d cores)%n", attest.cpuSeconds(), 1000 * attest.cpuSeconds() / Math.max(1, n),
                100 * attest.cpuSeconds() / attest.wallSeconds() / cores, cores));
        b.append(String.format("  CPU, appliance threads only (vert.x-*, H2 MVStore): %.2f s = %.2f ms per attestation%n",
                attest.applianceCpuSeconds(), 1000 * attest.applianceCpuSeconds() / Math.max(1, n)));
        b.append("  CPU by thread group (s):");
        attest.cpuByGroup().entrySet().stream().limit(8)
                .forEach(e -> b.append(String.format(" %s %.2f;", e.getKey(), e.getValue())));
        b.append('\n');
        b.append(String.format("  GC: %d collections, %.2f s (JVM-internal threads, GC and JIT, are not in the groups above)%n",
                attest.gcCount(), attest.gcSeconds()));
        b.append(String.format("  heap used after: %d MiB; JVM threads: %d%n", attest.heapUsedAfter() >> 20,
                attest.threadsAfter()));
        b.append(String.format("  H2 files: %d KiB before enrollment, %d KiB after, +%d KiB%n", dbBefore >> 10,
                dbAfter >> 10, (dbAfter - dbBefore) >> 10));
        b.append(String.format("%nerrors: %d during enrollment, %d during attestation%n", enrollStats.errorCount(),
                attestStats.errorCount()));
        enrollStats.errors().forEach((k, v) -> b.append(String.format("  %6d  %s%n", v, k)));
        attestStats.errors().forEach((k, v) -> b.append(String.format("  %6d  %s%n", v, k)));
        b.append(String.format("%nverdicts: %d not as expected while running; final states: %s%n", wrongVerdicts,
                mismatches.isEmpty() ? "every misbehaving device failed, every other is trusted"
                        : mismatches.size() + " devices not as expected"));
        mismatches.entrySet().stream().limit(20).forEach(e -> b.append("  ").append(e.getKey()).append(": ")
                .append(e.getValue()).append('\n'));
        text = b.toString();
    }

    private static int countBad(LoadOptions o, int devices) {
        int n = 0;
        for (int i = 0; i < devices; i++) {
            n += o.isBad(i) ? 1 : 0;
        }
        return n;
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
