package dev.outpost.bench.load;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/** Every device attests every period, at its own phase, for the duration. */
final class SteadyScenario implements Scenario {
    @Override
    public void run(SiteRun run, List<SimDevice> live) throws Exception {
        attestEvery(run, live, run.options().duration());
    }

    @Override
    public String describe(LoadOptions o) {
        return String.format("steady: every device attests every %.1f s for %.0f s with %d new IMA entries each%n",
                o.period().toMillis() / 1000.0, o.duration().toMillis() / 1000.0, o.entries());
    }

    /**
     * Every device attests every period, at its own phase, for {@code duration}; an overrun skips a tick (as an agent
     * would: the device is still busy) and the report counts those. Also the background load of other scenarios.
     */
    static void attestEvery(SiteRun run, List<SimDevice> devices, Duration duration) throws Exception {
        ScheduledExecutorService ticks = Executors.newSingleThreadScheduledExecutor();
        List<ScheduledFuture<?>> scheduled = new ArrayList<>();
        // Only the attestations in flight: keeping every one made for the run lengthened the generator's collections.
        Set<CompletableFuture<Void>> running = ConcurrentHashMap.newKeySet();
        long periodMs = run.options().period().toMillis();
        for (SimDevice d : devices) {
            AtomicBoolean busy = new AtomicBoolean();
            scheduled.add(ticks.scheduleAtFixedRate(() -> {
                long due = System.nanoTime();
                if ("failed".equals(d.lastState())) {
                    return;
                }
                if (!busy.compareAndSet(false, true)) {
                    run.skipped().incrementAndGet();
                    return;
                }
                CompletableFuture<Void> f = CompletableFuture.runAsync(() -> {
                    try {
                        run.attestOnce(d, run.attestStats(), due);
                    } finally {
                        busy.set(false);
                    }
                }, run.workers());
                running.add(f);
                f.whenComplete((v, e) -> running.remove(f));
            }, run.random().nextInt((int) Math.max(1, periodMs)), periodMs, TimeUnit.MILLISECONDS));
        }
        Thread.sleep(duration.toMillis());
        scheduled.forEach(f -> f.cancel(false));
        ticks.shutdown();
        ticks.awaitTermination(10, TimeUnit.SECONDS);
        CompletableFuture.allOf(running.toArray(new CompletableFuture[0])).get();
    }
}
