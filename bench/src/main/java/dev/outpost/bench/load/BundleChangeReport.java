package dev.outpost.bench.load;

import java.util.List;

import dev.outpost.bench.load.LoadGenerator.BundleChangeResult;

/** The bundle-change scenario's part of the report: subscription, then per change fan-out and attestations. */
final class BundleChangeReport {
    private BundleChangeReport() {
    }

    static String text(LoadOptions o, List<SimDevice> devices, Stats subscribeStats, Stats attestStats,
            List<BundleChangeResult> bundleResults, List<Integer> publishSeconds) {
        StringBuilder b = new StringBuilder();
        int cores = Runtime.getRuntime().availableProcessors();
        long[] sub = subscribeStats.sortedLatencies();
        long retained = devices.stream().filter(d -> d.bundleSequence() >= 0).count();
        b.append(String.format("%nbundle-change: %d devices subscribed to the site bundle (%d errors; SUBSCRIBE to SUBACK"
                + " p50 %.1f ms, max %.1f ms); the retained bundle reached %d; then %d changes %.0f s apart, each a new"
                + " federated trust domain (%s, %d root(s)) while every device attests every %.0f s%n", sub.length,
                subscribeStats.errorCount(), Stats.percentile(sub, 50) / 1000.0,
                sub.length == 0 ? 0 : sub[sub.length - 1] / 1000.0, retained, o.changes(),
                o.gap().toMillis() / 1000.0, BundleChangeScenario.PARTNER, o.roots(), o.period().toMillis() / 1000.0));
        long[] steadyAll = attestStats.sortedLatencies();
        b.append(String.format("  attestations over the whole phase: p50 %.1f ms, p99 %.1f ms, max %.1f ms (n=%d)%n",
                Stats.percentile(steadyAll, 50) / 1000.0, Stats.percentile(steadyAll, 99) / 1000.0,
                steadyAll.length == 0 ? 0 : steadyAll[steadyAll.length - 1] / 1000.0, steadyAll.length));
        for (BundleChangeResult r : bundleResults) {
            long[] l = r.latencyMicros();
            b.append(String.format("  sequence %d: %d of %d well-behaved devices took it (%d missing); publish call %.1f ms;"
                    + " publish to device p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms; last device at %.1f ms%n",
                    r.sequence(), l.length, l.length + r.missing(), r.missing(), r.publishCallMs(),
                    Stats.percentile(l, 50) / 1000.0, Stats.percentile(l, 90) / 1000.0,
                    Stats.percentile(l, 99) / 1000.0, l.length == 0 ? 0 : l[l.length - 1] / 1000.0, r.toLastMs()));
            b.append(String.format("    payload %d bytes (%.2f KiB) × %d = %.2f MiB of bundle sent (MQTT/TLS framing"
                    + " not counted); appliance CPU %.2f s over the fan-out (%.0f%% of %d cores), resident %d → max %d"
                    + " → %d MiB%n", r.payloadBytes(), r.payloadBytes() / 1024.0, r.bytes() / Math.max(1, r.payloadBytes()),
                    r.bytes() / 1048576.0,
                    r.applianceCpuSeconds(), r.toLastMs() <= 0 ? 0 : 100 * r.applianceCpuSeconds() / (r.toLastMs() / 1000) / cores,
                    cores, r.rssBefore() >> 20, r.rssMax() >> 20, r.rssAfter() >> 20));
            long[] a = r.attestLatencies();
            b.append(String.format("    attestations that ended from the publish to 1 s after the last device: %d (%.0f/s),"
                    + " challenge to verdict"
                    + " p50 %.1f ms, p99 %.1f ms, max %.1f ms%n", a.length,
                    r.attestWindowSeconds() <= 0 ? 0 : a.length / r.attestWindowSeconds(),
                    Stats.percentile(a, 50) / 1000.0, Stats.percentile(a, 99) / 1000.0,
                    a.length == 0 ? 0 : a[a.length - 1] / 1000.0));
        }
        long[][] perSecond = attestStats.perSecond();
        for (int at : publishSeconds) {
            b.append(String.format("  attestations completed per second, from 3 s before the publish of second %d to"
                    + " 4 s after (p99 ms):", at));
            for (int sec = at - 3; sec <= at + 4; sec++) {
                if (sec >= 0 && sec < perSecond.length) {
                    b.append(String.format(sec == at ? " [%d (%.0f)]" : " %d (%.0f)", perSecond[sec][0],
                            perSecond[sec][2] / 1000.0));
                }
            }
            b.append('\n');
        }
        int refused = devices.stream().mapToInt(SimDevice::bundleRefused).sum();
        if (refused > 0) {
            b.append(String.format("  %d bundle messages refused by devices (undecodable or another trust domain)%n", refused));
        }
        return b.toString();
    }
}
