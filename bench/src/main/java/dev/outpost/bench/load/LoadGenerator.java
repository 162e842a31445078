package dev.outpost.bench.load;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.eclipse.paho.mqttv5.common.MqttException;

import dev.outpost.agent.tls.TlsContexts;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.ProtocolException;
import dev.outpost.mqtt.protocol.Topics;
import dev.outpost.mqtt.protocol.Verdict;

/**
 * Site-scale load on an in-process appliance: N simulated devices (software TPMs, real protocol code) enroll
 * and attest, and every verdict is checked against what each device did.
 *
 * <p>Device operations run on a bounded pool: each blocks on its MQTT request/response, so the pool size, not the
 * device count, bounds concurrency. Each device holds one Paho client, which starts its own threads (sender,
 * receiver, callback, ping timer: about four), so threads grow with devices: see the report.
 */
public final class LoadGenerator {
    private final LoadOptions o;
    private final SecureRandom random = new SecureRandom();
    private final Stats enrollStats = new Stats();
    private final Stats attestStats = new Stats();
    private final AtomicInteger wrongVerdicts = new AtomicInteger();
    private final AtomicInteger skipped = new AtomicInteger();

    /** What a run found: the report, and the devices whose final state is not the one expected. */
    public record Result(String report, Map<String, String> mismatches, long errors, int enrolled, int attestations) {
    }

    public LoadGenerator(LoadOptions options) {
        this.o = options;
    }

    public static void main(String[] args) throws Exception {
        System.setProperty("java.awt.headless", "true");
        System.setProperty("logback.configurationFile", "outpost-bench-logback.xml");
        LoadOptions o;
        try {
            o = LoadOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        Result r = new LoadGenerator(o).run();
        System.out.println(r.report());
        System.exit(r.mismatches().isEmpty() && r.errors() == 0 ? 0 : 1);
    }

    public Result run() throws Exception {
        Files.createDirectories(o.out());
        Path work = Files.createTempDirectory(o.out().toAbsolutePath(), "appliance-");
        RunCa ekCa = new RunCa();
        FilePool pool = new FilePool(o.poolSize(), random);
        // Freshness well beyond the period: a device must go stale only if the appliance falls behind badly.
        Duration freshness = o.period().multipliedBy(10).compareTo(Duration.ofMinutes(2)) > 0
                ? o.period().multipliedBy(10) : Duration.ofMinutes(2);
        ExecutorService workers = Executors.newFixedThreadPool(o.threads());
        List<SimDevice> devices = new ArrayList<>();
        try (SiteAppliance site = SiteAppliance.start(work, ekCa, o.period(), freshness)) {
            site.installPolicy(pool.runtimePolicyJson());
            SimDevice.Site where = new SimDevice.Site("127.0.0.1", site.mqttPort(),
                    TlsContexts.trusting(List.of(site.siteCa())), new Topics(), new Codec(), Duration.ofSeconds(60));

            long t = System.nanoTime();
            devices.addAll(makeDevices(workers, ekCa, pool));
            double keygenSeconds = (System.nanoTime() - t) / 1e9;

            long dbBefore = site.databaseBytes();
            enrollStats.start();
            Phase enroll = measure(() -> enrollAll(workers, devices, where, site));
            List<SimDevice> live = devices.stream().filter(enrolled::contains).toList();
            // The first attestation carries the whole list and brings every device to trusted; not measured.
            roundOfAttestations(workers, live, new Stats());
            attestStats.start();
            Phase attest = measure(() -> {
                if (o.scenario().equals("steady")) {
                    steady(workers, live);
                } else {
                    roundOfAttestations(workers, live, attestStats);
                }
            });
            long dbAfter = site.databaseBytes();
            Map<String, String> states = site.states();
            Map<String, String> mismatches = new TreeMap<>();
            for (SimDevice d : live) {
                String want = d.misbehaving() ? "failed" : "trusted";
                String got = states.getOrDefault(d.id(), "absent");
                if (!want.equals(got)) {
                    mismatches.put(d.id(), "want " + want + ", appliance says " + got + ", last verdict " + d.lastState());
                }
            }
            Report report = new Report(o, devices.size(), live.size(), keygenSeconds, enroll, attest, enrollStats,
                    attestStats, dbBefore, dbAfter, mismatches, wrongVerdicts.get(), skipped.get());
            Files.writeString(o.out().resolve("report.txt"), report.text());
            Plot.write(o.out().resolve("load.png"), o.scenario() + ", " + live.size() + " devices, " + o.entries()
                    + " new IMA entries per attestation", "attestations (challenge to verdict)", attestStats.perSecond());
            Plot.write(o.out().resolve("enroll.png"), o.scenario() + ", " + devices.size() + " devices enrolling at once",
                    "enrollments", enrollStats.perSecond());
            return new Result(report.text(), mismatches, enrollStats.errorCount() + attestStats.errorCount(), live.size(),
                    attestStats.count());
        } finally {
            for (SimDevice d : devices) {
                workers.submit(d::close);
            }
            workers.shutdown();
            workers.awaitTermination(60, TimeUnit.SECONDS);
        }
    }

    private final java.util.Set<SimDevice> enrolled = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** Key generation (RSA 2048 mostly) before anything is measured: a real TPM has its EK from the factory. */
    private List<SimDevice> makeDevices(ExecutorService workers, RunCa ekCa, FilePool pool) throws Exception {
        List<CompletableFuture<SimDevice>> fs = new ArrayList<>();
        for (int i = 0; i < o.devices(); i++) {
            boolean bad = o.isBad(i);
            fs.add(CompletableFuture.supplyAsync(() -> {
                try {
                    SoftwareTpm tpm = new SoftwareTpm();
                    return new SimDevice(tpm, ekCa.issueEk(tpm.ekKey(), tpm.deviceId()), pool, bad, random);
                } catch (Exception e) {
                    throw new IllegalStateException("device setup: " + e.getMessage(), e);
                }
            }, workers));
        }
        List<SimDevice> out = new ArrayList<>();
        for (CompletableFuture<SimDevice> f : fs) {
            out.add(f.get());
        }
        return out;
    }

    private void enrollAll(ExecutorService workers, List<SimDevice> devices, SimDevice.Site where, SiteAppliance site)
            throws Exception {
        List<CompletableFuture<Void>> fs = new ArrayList<>();
        for (SimDevice d : devices) {
            fs.add(CompletableFuture.runAsync(() -> {
                long start = System.nanoTime();
                try {
                    d.enroll(where);
                    site.label(d.id());
                    enrollStats.record(start);
                    enrolled.add(d);
                } catch (Exception e) {
                    enrollStats.error("enroll " + kind(e));
                }
            }, workers));
        }
        CompletableFuture.allOf(fs.toArray(new CompletableFuture[0])).get();
    }

    private void roundOfAttestations(ExecutorService workers, List<SimDevice> devices, Stats stats) throws Exception {
        List<CompletableFuture<Void>> fs = new ArrayList<>();
        for (SimDevice d : devices) {
            fs.add(CompletableFuture.runAsync(() -> attestOnce(d, stats), workers));
        }
        CompletableFuture.allOf(fs.toArray(new CompletableFuture[0])).get();
    }

    /** Every device attests every period, at its own phase, for the duration; an overrun skips a tick. */
    private void steady(ExecutorService workers, List<SimDevice> devices) throws Exception {
        ScheduledExecutorService ticks = Executors.newSingleThreadScheduledExecutor();
        List<ScheduledFuture<?>> scheduled = new ArrayList<>();
        List<CompletableFuture<Void>> running = java.util.Collections.synchronizedList(new ArrayList<>());
        long periodMs = o.period().toMillis();
        for (SimDevice d : devices) {
            AtomicBoolean busy = new AtomicBoolean();
            scheduled.add(ticks.scheduleAtFixedRate(() -> {
                if ("failed".equals(d.lastState())) {
                    return;
                }
                if (!busy.compareAndSet(false, true)) {
                    // Not an error: the device is still busy, as an agent would be; the report counts these.
                    skipped.incrementAndGet();
                    return;
                }
                running.add(CompletableFuture.runAsync(() -> {
                    try {
                        attestOnce(d, attestStats);
                    } finally {
                        busy.set(false);
                    }
                }, workers));
            }, random.nextInt((int) Math.max(1, periodMs)), periodMs, TimeUnit.MILLISECONDS));
        }
        Thread.sleep(o.duration().toMillis());
        scheduled.forEach(f -> f.cancel(false));
        ticks.shutdown();
        ticks.awaitTermination(10, TimeUnit.SECONDS);
        List<CompletableFuture<Void>> all;
        synchronized (running) {
            all = new ArrayList<>(running);
        }
        CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).get();
    }

    private void attestOnce(SimDevice d, Stats stats) {
        if ("failed".equals(d.lastState())) {
            return;
        }
        long[] start = {System.nanoTime()};
        try {
            Verdict v = d.attest(o.entries(), start);
            stats.record(start[0]);
            boolean badNow = d.misbehaving() && d.attestations() >= 2;
            if (!v.state().equals(badNow ? "failed" : "trusted")) {
                wrongVerdicts.incrementAndGet();
                stats.error("verdict " + v.state() + (badNow ? " for a misbehaving device" : "") + ": "
                        + String.join("; ", v.reasons()));
            }
        } catch (Exception e) {
            stats.error("attest " + kind(e));
        }
    }

    static String kind(Exception e) {
        if (e instanceof ProtocolException p) {
            return p.code().name();
        }
        if (e instanceof TimeoutException) {
            return "timeout";
        }
        if (e instanceof MqttException m) {
            return "mqtt " + m.getReasonCode();
        }
        return e.getClass().getSimpleName();
    }

    /** A phase's wall time and this process's CPU time. */
    record Phase(double wallSeconds, double cpuSeconds, double applianceCpuSeconds, Map<String, Double> cpuByGroup,
            double gcSeconds, long gcCount, long heapUsedAfter, int threadsAfter) {
    }

    /** {milliseconds, collections} of every collector so far: pauses and concurrent cycles as the JVM counts them. */
    private static long[] gc() {
        long ms = 0;
        long n = 0;
        for (var b : ManagementFactory.getGarbageCollectorMXBeans()) {
            ms += Math.max(0, b.getCollectionTime());
            n += Math.max(0, b.getCollectionCount());
        }
        return new long[] {ms, n};
    }

    interface Body {
        void run() throws Exception;
    }

    private static Phase measure(Body body) throws Exception {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long cpu = os.getProcessCpuTime();
        ThreadCpu before = ThreadCpu.snapshot();
        long[] gc = gc();
        long t = System.nanoTime();
        body.run();
        double wall = (System.nanoTime() - t) / 1e9;
        double total = (os.getProcessCpuTime() - cpu) / 1e9;
        Map<String, Double> groups = ThreadCpu.snapshot().since(before);
        double appliance = groups.entrySet().stream().filter(e -> ThreadCpu.appliance(e.getKey()))
                .mapToDouble(Map.Entry::getValue).sum();
        long[] gcAfter = gc();
        return new Phase(wall, total, appliance, groups, (gcAfter[0] - gc[0]) / 1e3, gcAfter[1] - gc[1],
                ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(),
                ManagementFactory.getThreadMXBean().getThreadCount());
    }
}
