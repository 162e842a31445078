package dev.outpost.bench.load;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The appliance restarts (SIGTERM, start); every device reconnects at once (retrying with jittered backoff, as the
 * agent does) and attests. The latency recorded is from the appliance being up again to the device's verdict.
 */
final class ReconnectStormScenario implements Scenario {
    @Override
    public void prepare(SiteRun run, List<SimDevice> live) throws Exception {
        run.appliance().restart();
    }

    @Override
    public void run(SiteRun run, List<SimDevice> live) throws Exception {
        long up = System.nanoTime();
        long deadline = up + SiteRun.RECONNECT_DEADLINE.toNanos();
        run.forAll(live, d -> {
            long backoffMs = 100;
            while (!d.connected()) {
                try {
                    d.connect(run.site());
                } catch (Exception e) {
                    if (System.nanoTime() > deadline) {
                        run.reconnectStats().error("reconnect " + SiteRun.kind(e));
                        return;
                    }
                    SiteRun.sleep(ThreadLocalRandom.current().nextLong(backoffMs));
                    backoffMs = Math.min(5_000, backoffMs * 2);
                }
            }
            if (run.attestOnce(d, run.attestStats())) {
                run.reconnectStats().record(up);
            }
        });
    }

    @Override
    public String describe(LoadOptions o) {
        return String.format("reconnect-storm: the appliance restarts (SIGTERM, start); every device reconnects at once"
                + " and attests with %d new IMA entries%n", o.entries());
    }

    @Override
    public String reconnectLatency() {
        return "appliance up again to the device's verdict (reconnect + attest)";
    }
}
