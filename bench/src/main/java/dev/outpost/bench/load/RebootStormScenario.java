package dev.outpost.bench.load;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.LongAdder;

import dev.outpost.mqtt.protocol.ProtocolException;
import dev.outpost.mqtt.protocol.Verdict;

/**
 * A power restore: every device reboots at once with a new list of {@code --entries} files and attests until trusted
 * again. The first verdict after a reboot is pending ({@code tpm.reboot}) and asks for the whole list and the boot
 * log: the device attests again at once, as the agent does; a device told to come back later waits as it is told.
 * The latency recorded is from the power restore to the device's trusted verdict.
 */
final class RebootStormScenario implements Scenario {
    // Evidence refused with a retry-after (the appliance's evidence budget or rate limits), by code: the sign that
    // the appliance, not the devices, paces the storm.
    private final Map<String, LongAdder> retried = new ConcurrentSkipListMap<>();

    @Override
    public void prepare(SiteRun run, List<SimDevice> live) throws Exception {
        // On the workers: 10,000 devices × 5,000 entries are 50 million PCR extends.
        run.forAll(live, d -> d.reboot(run.options().entries()));
    }

    @Override
    public void run(SiteRun run, List<SimDevice> live) throws Exception {
        long restored = System.nanoTime();
        long deadline = restored + SiteRun.RECONNECT_DEADLINE.toNanos();
        run.forAll(live, d -> {
            while (System.nanoTime() < deadline) {
                long[] start = {System.nanoTime()};
                try {
                    Verdict v = d.attest(0, start);
                    run.attestStats().record(start[0]);
                    if ("trusted".equals(v.state())) {
                        run.reconnectStats().record(restored);
                        return;
                    }
                    if ("failed".equals(v.state()) && d.misbehaving()) {
                        return;
                    }
                    if (!v.reasons().stream().anyMatch(r -> r.startsWith("tpm.reboot"))) {
                        run.wrongVerdicts().incrementAndGet();
                        return;
                    }
                } catch (ProtocolException e) {
                    if (e.retryAfterMs() <= 0) {
                        run.reconnectStats().error(e.code().name());
                        return;
                    }
                    retried.computeIfAbsent(e.code().name(), k -> new LongAdder()).increment();
                    SiteRun.sleep(e.retryAfterMs());
                } catch (Exception e) {
                    run.reconnectStats().error(SiteRun.kind(e));
                    return;
                }
            }
            run.reconnectStats().error("not trusted again before the deadline");
        });
    }

    @Override
    public String describe(LoadOptions o) {
        return String.format("reboot-storm: every device reboots at once (power restore) with a new IMA list of %d"
                + " entries and its boot log, and attests until trusted again%n", o.entries());
    }

    @Override
    public String reconnectLatency() {
        return "power restore to the device trusted again (both attestations)";
    }

    @Override
    public String report(SiteRun run, List<SimDevice> live) {
        StringBuilder b = new StringBuilder(String.format("%nreboot-storm: attestations refused with a retry-after"
                + " (the device waited as told and tried again): %s%n", retried.isEmpty() ? "none" : ""));
        retried.forEach((code, n) -> b.append(String.format("  %6d  %s%n", n.sum(), code)));
        return b.toString();
    }
}
