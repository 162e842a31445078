package dev.outpost.bench.load;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.appliance.ca.TrustBundle;
import dev.outpost.bench.load.mqtt.MqttClients;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.ProtocolException;
import dev.outpost.mqtt.protocol.Topics;
import dev.outpost.mqtt.protocol.Verdict;
import dev.outpost.testkit.Mosquitto;
import dev.outpost.tpm.keys.Pem;

/**
 * Site-scale load: the appliance in its own JVM (and, in broker mode, a real Mosquitto), N simulated devices
 * (software TPMs, the agent's protocol code, one MQTT connection each) that enroll and attest, and every verdict
 * checked against what each device did.
 *
 * <p>Device operations run on a bounded pool: each blocks on its MQTT request/response, so the pool size, not the
 * device count, bounds concurrency. Connections cost no threads (one shared event loop), so one generator holds
 * ten thousand devices.
 */
public final class LoadGenerator {
    private static final Duration RECONNECT_DEADLINE = Duration.ofMinutes(5);

    private final LoadOptions o;
    private final SecureRandom random = new SecureRandom();
    private final Stats enrollStats = new Stats();
    private final Stats attestStats = new Stats();
    private final Stats reconnectStats = new Stats();
    private final AtomicInteger wrongVerdicts = new AtomicInteger();
    private final AtomicInteger skipped = new AtomicInteger();
    private final AtomicInteger renewals = new AtomicInteger();
    private final Set<SimDevice> enrolled = ConcurrentHashMap.newKeySet();

    /** What a run found: the report, and the devices whose final state is not the one expected. */
    public record Result(String report, Map<String, String> mismatches, long errors, int enrolled, int attestations,
            int svidRenewals, List<BundleChangeResult> bundleChanges) {
        /** Device receipts missing over every bundle change (a device that never took a change's sequence). */
        public int bundleMissing() {
            return bundleChanges.stream().mapToInt(BundleChangeResult::missing).sum();
        }
    }

    /**
     * One bundle change: the sequence, per-device latency from the appliance's publish call to the device taking it
     * (µs, sorted), devices that never did, bundle bytes devices received, and the appliance's CPU and resident
     * memory over the fan-out (publish call to the last device), and the attestations that ended meanwhile.
     */
    public record BundleChangeResult(long sequence, long[] latencyMicros, int missing, long bytes, long payloadBytes,
            double publishCallMs, double toLastMs, double applianceCpuSeconds, long rssBefore, long rssMax,
            long rssAfter, long[] attestLatencies, double attestWindowSeconds) {
    }

    private final List<BundleChangeResult> bundleResults = Collections.synchronizedList(new ArrayList<>());
    private final Stats subscribeStats = new Stats();
    private final List<Integer> publishSeconds = Collections.synchronizedList(new ArrayList<>());
    static final String PARTNER = "partner.test";
    /** Attestations held up by a fan-out end after it: those ending up to a second after the last device count. */
    private static final long ATTEST_WINDOW_AFTER_NANOS = 1_000_000_000L;

    /** A phase's wall time and what the two processes spent in it. */
    record Phase(double wallSeconds, double applianceCpuSeconds, double generatorCpuSeconds,
            ApplianceProcess.Usage applianceAfter, long generatorHeapUsed, int generatorThreads, List<long[]> samples) {
    }

    /** Every {@link #SAMPLE_SECONDS}: seconds into the phase, appliance RSS and H2 file bytes. */
    static final int SAMPLE_SECONDS = 10;

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
        System.exit(r.mismatches().isEmpty() && r.errors() == 0 && r.bundleMissing() == 0 ? 0 : 1);
    }

    public Result run() throws Exception {
        Files.createDirectories(o.out());
        Path work = Files.createTempDirectory(o.out().toAbsolutePath(), "site-");
        RunCa ekCa = new RunCa();
        FilePool pool = new FilePool(o.poolSize(), random);
        // Freshness well beyond the period (and the longest storm): a device must go stale only if the appliance
        // falls far behind. SVIDs never outlive it, so it also bounds how long a device may wait to reconnect.
        Duration freshness = o.period().multipliedBy(10).compareTo(Duration.ofMinutes(10)) > 0
                ? o.period().multipliedBy(10) : Duration.ofMinutes(10);
        ExecutorService workers = Executors.newFixedThreadPool(o.threads());
        List<SimDevice> devices = Collections.synchronizedList(new ArrayList<>());
        Mosquitto broker = null;
        ApplianceProcess app = null;
        try (MqttClients clients = new MqttClients(o.ioThreads(), new Topics(), new Codec(), Duration.ofSeconds(60))) {
            String brokerUri = null;
            if (o.broker().equals("mosquitto")) {
                broker = startBroker(work);
                brokerUri = broker.mtlsUri();
            }
            app = ApplianceProcess.start(work, ekCa, o.period(), freshness, brokerUri, o.applianceJvm(),
                    o.scenario().equals("bundle-change"));
            app.installPolicy(pool.runtimePolicyJson());
            SimDevice.Site site = new SimDevice.Site(clients, "127.0.0.1",
                    broker == null ? app.mqttPort() : broker.mtlsPort(), broker == null ? app.mqttPort() : broker.enrollPort(),
                    List.of(app.siteCa()));

            long t = System.nanoTime();
            devices.addAll(makeDevices(workers, ekCa, pool));
            double keygenSeconds = (System.nanoTime() - t) / 1e9;

            long dbBefore = app.databaseBytes();
            enrollStats.start();
            ApplianceProcess appliance = app;
            Phase enroll = measure(app, () -> enrollAll(workers, devices, site, appliance));
            List<SimDevice> live = devices.stream().filter(enrolled::contains).toList();
            // The first attestation carries the whole list and brings every device to trusted; not measured.
            roundOfAttestations(workers, live, new Stats());
            long dbEnrolled = app.databaseBytes();
            Phase main;
            switch (o.scenario()) {
                case "steady" -> {
                    attestStats.start();
                    main = measure(app, () -> steady(workers, live, o.duration()));
                }
                case "reboot-storm" -> {
                    live.forEach(d -> d.reboot(o.entries()));
                    attestStats.start();
                    reconnectStats.start();
                    main = measure(app, () -> rebootAll(workers, live));
                }
                case "bundle-change" -> {
                    List<Path> pems = federatedRoots(work);
                    subscribeStats.start();
                    forAll(workers, live, d -> {
                        long start = System.nanoTime();
                        try {
                            d.followBundle("load.test");
                            subscribeStats.record(start);
                        } catch (Exception e) {
                            subscribeStats.error("subscribe " + kind(e));
                        }
                    });
                    attestStats.start();
                    main = measure(app, () -> bundleChanges(workers, live, appliance, pems));
                }
                case "reconnect-storm" -> {
                    app.restart();
                    attestStats.start();
                    reconnectStats.start();
                    main = measure(app, () -> reconnectAll(workers, live, site));
                }
                default -> {
                    attestStats.start();
                    main = measure(app, () -> roundOfAttestations(workers, live, attestStats));
                }
            }
            long dbAfter = app.databaseBytes();
            Map<String, String> mismatches = check(live, app.states());
            Report report = new Report(o, devices.size(), live.size(), keygenSeconds, enroll, main, enrollStats,
                    attestStats, reconnectStats, dbBefore, dbEnrolled, dbAfter, mismatches, wrongVerdicts.get(), skipped.get(),
                    renewals.get());
            String text = report.text() + (o.scenario().equals("bundle-change") ? bundleReport(live) : "");
            Files.writeString(o.out().resolve("report.txt"), text);
            Plot.write(o.out().resolve("load.png"), o.scenario() + ", " + live.size() + " devices, " + o.entries()
                    + " new IMA entries per attestation", "attestations (challenge to verdict)", attestStats.perSecond());
            Plot.write(o.out().resolve("enroll.png"), devices.size() + " devices enrolling at once",
                    "enrollments", enrollStats.perSecond());
            return new Result(text, mismatches, enrollStats.errorCount() + attestStats.errorCount()
                    + reconnectStats.errorCount() + subscribeStats.errorCount(), live.size(), attestStats.count(),
                    renewals.get(), List.copyOf(bundleResults));
        } finally {
            devices.forEach(SimDevice::close);
            workers.shutdownNow();
            if (app != null) {
                app.close();
            }
            if (broker != null) {
                broker.close();
            }
        }
    }

    private static Map<String, String> check(List<SimDevice> live, Map<String, String> states) {
        Map<String, String> mismatches = new TreeMap<>();
        for (SimDevice d : live) {
            String want = d.misbehaving() ? "failed" : "trusted";
            String got = states.getOrDefault(d.id(), "absent");
            if (!want.equals(got)) {
                mismatches.put(d.id(), "want " + want + (d.misbehaving() ? " (" + d.misbehaviour() + ")" : "")
                        + ", appliance says " + got + ", last verdict " + d.lastState());
            }
        }
        return mismatches;
    }

    /**
     * The site broker with the shipped Mosquitto configuration; the site CA is made first (as an installer would),
     * so the broker can trust SVIDs and present a certificate devices trust.
     */
    private static Mosquitto startBroker(Path work) throws Exception {
        SiteCa ca = SiteCa.loadOrCreate(work.resolve("data/ca"), "load.test", "load-site", Duration.ofDays(365),
                Clock.systemUTC());
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair server = g.generateKeyPair();
        Files.writeString(work.resolve("bundle.pem"), TrustBundle.of(ca).pem());
        Files.writeString(work.resolve("broker.pem"), Pem.certificate(ca.issueServerCertificate(server.getPublic(),
                List.of("localhost", "127.0.0.1"), Duration.ofDays(1))));
        Files.writeString(work.resolve("broker.key"), Pem.encode("PRIVATE KEY", server.getPrivate().getEncoded()));
        return Mosquitto.start(work.resolve("mosquitto"), work.resolve("bundle.pem"), work.resolve("broker.pem"),
                work.resolve("broker.key"));
    }

    /** Key generation before anything is measured: a real TPM has its EK from the factory. */
    private List<SimDevice> makeDevices(ExecutorService workers, RunCa ekCa, FilePool pool) throws Exception {
        List<CompletableFuture<SimDevice>> fs = new ArrayList<>();
        for (int i = 0; i < o.devices(); i++) {
            SimDevice.Misbehaviour bad = o.misbehaviour(i);
            fs.add(CompletableFuture.supplyAsync(() -> {
                try {
                    SoftwareTpm tpm = new SoftwareTpm(o.ek());
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

    private void enrollAll(ExecutorService workers, List<SimDevice> devices, SimDevice.Site site, ApplianceProcess app)
            throws Exception {
        forAll(workers, devices, d -> {
            long start = System.nanoTime();
            try {
                d.enroll(site);
                app.label(d.id());
                enrollStats.record(start);
                enrolled.add(d);
            } catch (Exception e) {
                enrollStats.error("enroll " + kind(e));
            }
        });
    }

    private void roundOfAttestations(ExecutorService workers, List<SimDevice> devices, Stats stats) throws Exception {
        forAll(workers, devices, d -> attestOnce(d, stats));
    }

    /**
     * After the appliance restarted: every device reconnects at once (retrying with jittered backoff, as the agent
     * does) and attests. The latency recorded is from the appliance being up again to the device's verdict.
     */
    private void reconnectAll(ExecutorService workers, List<SimDevice> devices, SimDevice.Site site) throws Exception {
        long up = System.nanoTime();
        long deadline = up + RECONNECT_DEADLINE.toNanos();
        forAll(workers, devices, d -> {
            long backoffMs = 100;
            while (!d.connected()) {
                try {
                    d.connect(site);
                } catch (Exception e) {
                    if (System.nanoTime() > deadline) {
                        reconnectStats.error("reconnect " + kind(e));
                        return;
                    }
                    sleep(ThreadLocalRandom.current().nextLong(backoffMs));
                    backoffMs = Math.min(5_000, backoffMs * 2);
                }
            }
            if (attestOnce(d, attestStats)) {
                reconnectStats.record(up);
            }
        });
    }

    /**
     * After a power restore: every device attests at once with its whole new list and boot log (the first verdict
     * after a reboot is pending, tpm.reboot, and asks for them: the device attests again at once, as the agent
     * does; a device told to come back later waits as it is told). The latency recorded is from the power restore
     * to the device's trusted verdict.
     */
    private void rebootAll(ExecutorService workers, List<SimDevice> devices) throws Exception {
        long restored = System.nanoTime();
        long deadline = restored + RECONNECT_DEADLINE.toNanos();
        forAll(workers, devices, d -> {
            while (System.nanoTime() < deadline) {
                long[] start = {System.nanoTime()};
                try {
                    Verdict v = d.attest(0, start);
                    attestStats.record(start[0]);
                    if ("trusted".equals(v.state())) {
                        reconnectStats.record(restored);
                        return;
                    }
                    if ("failed".equals(v.state()) && d.misbehaving()) {
                        return;
                    }
                    if (!v.reasons().stream().anyMatch(r -> r.startsWith("tpm.reboot"))) {
                        wrongVerdicts.incrementAndGet();
                        return;
                    }
                } catch (dev.outpost.mqtt.protocol.ProtocolException e) {
                    if (e.retryAfterMs() <= 0) {
                        reconnectStats.error(e.code().name());
                        return;
                    }
                    sleep(e.retryAfterMs());
                } catch (Exception e) {
                    reconnectStats.error(kind(e));
                    return;
                }
            }
            reconnectStats.error("not trusted again before the deadline");
        });
    }

    private interface DeviceTask {
        void run(SimDevice d);
    }

    private static void forAll(ExecutorService workers, List<SimDevice> devices, DeviceTask task) throws Exception {
        List<CompletableFuture<Void>> fs = new ArrayList<>();
        for (SimDevice d : devices) {
            fs.add(CompletableFuture.runAsync(() -> task.run(d), workers));
        }
        CompletableFuture.allOf(fs.toArray(new CompletableFuture[0])).get();
    }

    /** Every device attests every period, at its own phase, for the duration; an overrun skips a tick. */
    private void steady(ExecutorService workers, List<SimDevice> devices, Duration duration) throws Exception {
        ScheduledExecutorService ticks = Executors.newSingleThreadScheduledExecutor();
        List<ScheduledFuture<?>> scheduled = new ArrayList<>();
        List<CompletableFuture<Void>> running = Collections.synchronizedList(new ArrayList<>());
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
        Thread.sleep(duration.toMillis());
        scheduled.forEach(f -> f.cancel(false));
        ticks.shutdown();
        ticks.awaitTermination(10, TimeUnit.SECONDS);
        List<CompletableFuture<Void>> all;
        synchronized (running) {
            all = new ArrayList<>(running);
        }
        CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).get();
    }

    /** The federated roots of each change, made before anything is measured: {@code roots} new CAs each. */
    private List<Path> federatedRoots(Path work) throws Exception {
        List<Path> out = new ArrayList<>();
        for (int k = 0; k < o.changes(); k++) {
            List<java.security.cert.X509Certificate> certs = new ArrayList<>();
            for (int i = 0; i < o.roots(); i++) {
                certs.add(new RunCa("CN=Partner Root " + (k + 1) + "." + (i + 1) + ",O=" + PARTNER).certificate());
            }
            Path f = work.resolve("federated-" + (k + 1) + ".pem");
            Files.writeString(f, dev.outpost.spiffe.PemIo.encode(certs));
            out.add(f);
        }
        return out;
    }

    /**
     * While every device attests every period (in the background, as on a live site), the bundle changes
     * {@code changes} times, {@code gap} apart: the appliance replaces the federated trust domain's roots, bumps the
     * sequence and hands the bundle to every connection. Each change waits until every device took it (or a
     * deadline), reading the appliance's CPU and resident memory around the fan-out.
     */
    private void bundleChanges(ExecutorService workers, List<SimDevice> devices, ApplianceProcess app, List<Path> pems)
            throws Exception {
        Duration total = o.gap().multipliedBy(o.changes()).plus(o.gap());
        CompletableFuture<Void> background = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                steady(workers, devices, total);
                background.complete(null);
            } catch (Throwable e) {
                background.completeExceptionally(e);
            }
        }, "background-attestations");
        t.start();
        long begin = System.nanoTime();
        for (int k = 0; k < o.changes(); k++) {
            long at = begin + o.gap().dividedBy(2).toNanos() + k * o.gap().toNanos();
            long wait = (at - System.nanoTime()) / 1_000_000;
            if (wait > 0) {
                Thread.sleep(wait);
            }
            bundleResults.add(oneChange(devices, app, pems.get(k)));
        }
        background.get();
    }

    /**
     * Only the well-behaved devices must take every change: a misbehaving one is failed and revoked by its second
     * attestation (the first of the background load), and the appliance disconnects it.
     */
    private BundleChangeResult oneChange(List<SimDevice> all, ApplianceProcess app, Path pem) throws Exception {
        List<SimDevice> devices = all.stream().filter(d -> !d.misbehaving()).toList();
        long bytesBefore = all.stream().mapToLong(SimDevice::bundleBytes).sum();
        ApplianceProcess.Usage before = app.usage();
        long[] rssMax = {before.rssBytes()};
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        sampler.scheduleAtFixedRate(() -> {
            try {
                rssMax[0] = Math.max(rssMax[0], app.usage().rssBytes());
            } catch (Exception e) {
                // no sample
            }
        }, 0, 20, TimeUnit.MILLISECONDS);
        ApplianceProcess.BundleChange c;
        long last;
        try {
            c = app.federate(PARTNER, pem, Duration.ofSeconds(60));
            if (c.sequence() < 0) {
                throw new IllegalStateException("the appliance found the federated roots unchanged");
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (System.nanoTime() < deadline && !devices.stream().allMatch(d -> d.bundleSequence() >= c.sequence())) {
                Thread.sleep(2);
            }
            last = c.startNanos();
            for (SimDevice d : devices) {
                Long taken = d.bundleTakenAt(c.sequence());
                if (taken != null) {
                    last = Math.max(last, taken);
                }
            }
        } finally {
            sampler.shutdownNow();
            sampler.awaitTermination(5, TimeUnit.SECONDS);
        }
        ApplianceProcess.Usage after = app.usage();
        // The attestations a fan-out held up end after it: wait for the window to close before reading them.
        long windowEnd = last + ATTEST_WINDOW_AFTER_NANOS;
        long pause = (windowEnd - System.nanoTime()) / 1_000_000;
        if (pause > 0) {
            Thread.sleep(pause);
        }
        publishSeconds.add(attestStats.secondOf(c.startNanos()));
        long[] lat = new long[devices.size()];
        int n = 0;
        int missing = 0;
        long payload = 0;
        for (SimDevice d : devices) {
            Long taken = d.bundleTakenAt(c.sequence());
            if (taken == null) {
                missing++;
            } else {
                lat[n++] = (taken - c.startNanos()) / 1000;
            }
        }
        lat = java.util.Arrays.copyOf(lat, n);
        java.util.Arrays.sort(lat);
        long bytes = all.stream().mapToLong(SimDevice::bundleBytes).sum() - bytesBefore;
        int receivers = (int) all.stream().filter(d -> d.bundleTakenAt(c.sequence()) != null).count();
        payload = receivers == 0 ? 0 : bytes / receivers;
        return new BundleChangeResult(c.sequence(), lat, missing, bytes, payload, (c.endNanos() - c.startNanos()) / 1e6,
                (last - c.startNanos()) / 1e6, after.cpuSeconds() - before.cpuSeconds(), before.rssBytes(),
                Math.max(rssMax[0], after.rssBytes()), after.rssBytes(),
                attestStats.latenciesEndingBetween(c.startNanos(), windowEnd), (windowEnd - c.startNanos()) / 1e9);
    }

    private String bundleReport(List<SimDevice> devices) {
        StringBuilder b = new StringBuilder();
        int cores = Runtime.getRuntime().availableProcessors();
        long[] sub = subscribeStats.sortedLatencies();
        long retained = devices.stream().filter(d -> d.bundleSequence() >= 0).count();
        b.append(String.format("%nbundle-change: %d devices subscribed to the site bundle (%d errors; SUBSCRIBE to SUBACK"
                + " p50 %.1f ms, max %.1f ms); the retained bundle reached %d; then %d changes %.0f s apart, each a new"
                + " federated trust domain (%s, %d root(s)) while every device attests every %.0f s%n", sub.length,
                subscribeStats.errorCount(), Stats.percentile(sub, 50) / 1000.0,
                sub.length == 0 ? 0 : sub[sub.length - 1] / 1000.0, retained, o.changes(),
                o.gap().toMillis() / 1000.0, PARTNER, o.roots(), o.period().toMillis() / 1000.0));
        long[] steadyAll = attestStats.sortedLatencies();
        b.append(String.format("  attestations over the whole phase: p50 %.1f ms, p99 %.1f ms, max %.1f ms (n=%d)%n",
                Stats.percentile(steadyAll, 50) / 1000.0, Stats.percentile(steadyAll, 99) / 1000.0,
                steadyAll.length == 0 ? 0 : steadyAll[steadyAll.length - 1] / 1000.0, steadyAll.length));
        synchronized (bundleResults) {
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
        }
        long[][] perSecond = attestStats.perSecond();
        synchronized (publishSeconds) {
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
        }
        int refused = devices.stream().mapToInt(SimDevice::bundleRefused).sum();
        if (refused > 0) {
            b.append(String.format("  %d bundle messages refused by devices (undecodable or another trust domain)%n", refused));
        }
        return b.toString();
    }

    /** One attestation and the check of its verdict; true if it went as it should. */
    private boolean attestOnce(SimDevice d, Stats stats) {
        if ("failed".equals(d.lastState())) {
            return false;
        }
        long[] start = {System.nanoTime()};
        try {
            Verdict v = d.attest(o.entries(), start);
            stats.record(start[0]);
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

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    interface Body {
        void run() throws Exception;
    }

    private static Phase measure(ApplianceProcess app, Body body) throws Exception {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long generatorCpu = os.getProcessCpuTime();
        double applianceCpu = app.usage().cpuSeconds();
        long t = System.nanoTime();
        List<long[]> samples = Collections.synchronizedList(new ArrayList<>());
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        sampler.scheduleAtFixedRate(() -> {
            try {
                samples.add(new long[] {(System.nanoTime() - t) / 1_000_000_000L, app.usage().rssBytes(), app.databaseBytes()});
            } catch (Exception e) {
                // the appliance is restarting: no sample this time
            }
        }, SAMPLE_SECONDS, SAMPLE_SECONDS, TimeUnit.SECONDS);
        try {
            body.run();
        } finally {
            sampler.shutdownNow();
        }
        double wall = (System.nanoTime() - t) / 1e9;
        ApplianceProcess.Usage after = app.usage();
        return new Phase(wall, after.cpuSeconds() - applianceCpu, (os.getProcessCpuTime() - generatorCpu) / 1e9, after,
                ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(),
                ManagementFactory.getThreadMXBean().getThreadCount(), List.copyOf(samples));
    }
}
