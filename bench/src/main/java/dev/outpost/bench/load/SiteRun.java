package dev.outpost.bench.load;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import dev.outpost.mqtt.protocol.ProtocolException;
import dev.outpost.mqtt.protocol.Verdict;

/**
 * What every scenario shares while a site runs: the options, the appliance process, where devices connect, the
 * worker pool that runs device operations, the statistics, and the operations themselves (enroll, attest and check
 * the verdict).
 *
 * <p>Device operations run on the bounded pool: each blocks on its MQTT request/response, so the pool size, not the
 * device count, bounds concurrency.
 */
final class SiteRun {
    /** How long a device may take to come back after a restart or a reboot. */
    static final Duration RECONNECT_DEADLINE = Duration.ofMinutes(5);

    private final LoadOptions o;
    private final Path work;
    private final SecureRandom random;
    private final ExecutorService workers;
    private final ApplianceProcess appliance;
    private final SimDevice.Site site;
    private final Stats enrollStats = new Stats();
    private final Stats attestStats = new Stats();
    private final Stats reconnectStats = new Stats();
    private final Stages stages = new Stages();
    private final Stats fromTick = new Stats();
    private final AtomicInteger wrongVerdicts = new AtomicInteger();
    private final AtomicInteger skipped = new AtomicInteger();
    private final AtomicInteger renewals = new AtomicInteger();
    private final Set<SimDevice> enrolled = ConcurrentHashMap.newKeySet();

    SiteRun(LoadOptions o, Path work, SecureRandom random, ExecutorService workers, ApplianceProcess appliance,
            SimDevice.Site site) {
        this.o = o;
        this.work = work;
        this.random = random;
        this.workers = workers;
        this.appliance = appliance;
        this.site = site;
    }

    interface DeviceTask {
        void run(SimDevice d);
    }

    /** Runs {@code task} for every device on the workers and waits for all. */
    void forAll(List<SimDevice> devices, DeviceTask task) throws Exception {
        List<CompletableFuture<Void>> fs = new ArrayList<>();
        for (SimDevice d : devices) {
            fs.add(CompletableFuture.runAsync(() -> task.run(d), workers));
        }
        CompletableFuture.allOf(fs.toArray(new CompletableFuture[0])).get();
    }

    /** Every device enrolls at once; each one enrolled is labelled and then {@link #enrolled}. */
    void enrollAll(List<SimDevice> devices) throws Exception {
        forAll(devices, d -> {
            long start = System.nanoTime();
            try {
                d.enroll(site);
                appliance.label(d.id());
                enrollStats.record(start);
                enrolled.add(d);
            } catch (Exception e) {
                enrollStats.error("enroll " + kind(e));
            }
        });
    }

    boolean enrolled(SimDevice d) {
        return enrolled.contains(d);
    }

    /** One attestation with {@code --entries} new files and the check of its verdict; true if it went as it should. */
    boolean attestOnce(SimDevice d, Stats stats) {
        return attestOnce(d, stats, System.nanoTime());
    }

    /**
     * The same, for a device whose tick fired at {@code due} (System.nanoTime()): the wait for a generator thread is
     * measured too, so a stall that holds every thread cannot hide the devices that meanwhile wanted to attest.
     */
    boolean attestOnce(SimDevice d, Stats stats, long due) {
        if ("failed".equals(d.lastState())) {
            return false;
        }
        long[] start = {System.nanoTime(), 0, 0};
        try {
            Verdict v = d.attest(o.entries(), start);
            stats.record(start[0]);
            if (stats == attestStats && start[1] != 0 && start[2] != 0) {
                fromTick.record(due);
                stages.record(due, start[0], start[1], start[2]);
            }
            if (v.svid() != null) {
                renewals.incrementAndGet();
            }
            boolean badNow = d.misbehaving() && d.attestations() >= 2;
            if (!v.state().equals(badNow ? "failed" : "trusted")) {
                wrongVerdicts.incrementAndGet();
                stats.error("verdict " + v.state() + (badNow ? " for a misbehaving device (" + d.misbehaviour() + ")" : "")
                        + ": " + String.join("; ", v.reasons()));
                return false;
            }
            return true;
        } catch (Exception e) {
            stats.error("attest " + kind(e));
            return false;
        }
    }

    static String kind(Exception e) {
        if (e instanceof ProtocolException p) {
            return p.code().name();
        }
        if (e instanceof TimeoutException) {
            return "timeout";
        }
        return e.getClass().getSimpleName();
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    LoadOptions options() {
        return o;
    }

    /** The run's working directory (the appliance's and the broker's files). */
    Path work() {
        return work;
    }

    SecureRandom random() {
        return random;
    }

    ExecutorService workers() {
        return workers;
    }

    ApplianceProcess appliance() {
        return appliance;
    }

    SimDevice.Site site() {
        return site;
    }

    Stats enrollStats() {
        return enrollStats;
    }

    Stats attestStats() {
        return attestStats;
    }

    /** The measured attestations' stages: the challenge's round trip, the device's quote, the evidence's round trip. */
    Stages stages() {
        return stages;
    }

    /** The measured attestations from the device's tick to its verdict: the generator's own queueing included. */
    Stats fromTick() {
        return fromTick;
    }

    Stats reconnectStats() {
        return reconnectStats;
    }

    AtomicInteger wrongVerdicts() {
        return wrongVerdicts;
    }

    AtomicInteger skipped() {
        return skipped;
    }

    AtomicInteger renewals() {
        return renewals;
    }
}
