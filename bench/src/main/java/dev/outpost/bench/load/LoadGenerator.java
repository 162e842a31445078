package dev.outpost.bench.load;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import dev.outpost.bench.load.mqtt.MqttClients;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.Topics;
import dev.outpost.testkit.Mosquitto;

/**
 * Site-scale load: the appliance in its own JVM (and, in broker mode, a real Mosquitto), N simulated devices
 * (software TPMs, the agent's protocol code, one MQTT connection each) that enroll and attest, and every verdict
 * checked against what each device did. This class is the run every scenario shares: site up, devices made,
 * enrolled and attested once, then the {@link Scenario}'s measured phase, the check of every device's final state,
 * and the report.
 *
 * <p>Connections cost no threads (one shared event loop), and devices hold their IMA lists compactly
 * ({@link ImaLog}), so one generator holds ten thousand devices.
 */
public final class LoadGenerator {
    private final LoadOptions o;
    private final SecureRandom random = new SecureRandom();

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
        Scenario scenario = Scenario.of(o);
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
                broker = SiteBroker.start(work);
                brokerUri = broker.mtlsUri();
            }
            app = ApplianceProcess.start(work, ekCa, o.period(), freshness, brokerUri, o.applianceJvm(),
                    scenario.hookedAppliance());
            app.installPolicy(pool.runtimePolicyJson());
            SimDevice.Site site = new SimDevice.Site(clients, "127.0.0.1",
                    broker == null ? app.mqttPort() : broker.mtlsPort(), broker == null ? app.mqttPort() : broker.enrollPort(),
                    List.of(app.siteCa()));
            SiteRun run = new SiteRun(o, work, random, workers, app, site);

            long t = System.nanoTime();
            devices.addAll(makeDevices(workers, ekCa, pool));
            double keygenSeconds = (System.nanoTime() - t) / 1e9;

            long dbBefore = app.databaseBytes();
            run.enrollStats().start();
            Phase enroll = Phase.measure(app, () -> run.enrollAll(devices));
            List<SimDevice> live = devices.stream().filter(run::enrolled).toList();
            // The first attestation carries the whole list and brings every device to trusted; not measured.
            Stats first = new Stats();
            run.forAll(live, d -> run.attestOnce(d, first));
            long dbEnrolled = app.databaseBytes();
            scenario.prepare(run, live);
            run.attestStats().start();
            run.fromTick().start();
            run.reconnectStats().start();
            Phase main = Phase.measure(app, () -> run.attestStats().count(), () -> scenario.run(run, live));
            long dbAfter = app.databaseBytes();
            Map<String, String> mismatches = check(live, app.states());
            Report report = new Report(o, scenario, devices.size(), live.size(), keygenSeconds, enroll, main, run,
                    dbBefore, dbEnrolled, dbAfter, mismatches);
            String text = report.text() + scenario.report(run, live);
            Files.writeString(o.out().resolve("report.txt"), text);
            Files.writeString(o.out().resolve("attestations-100ms.csv"), run.attestStats().windowsCsv(100));
            Plot.write(o.out().resolve("load.png"), o.scenario() + ", " + live.size() + " devices, " + o.entries()
                    + " new IMA entries per attestation", "attestations (challenge to verdict)",
                    run.attestStats().perSecond());
            Plot.write(o.out().resolve("enroll.png"), devices.size() + " devices enrolling at once",
                    "enrollments", run.enrollStats().perSecond());
            return new Result(text, mismatches, run.enrollStats().errorCount() + run.attestStats().errorCount()
                    + run.reconnectStats().errorCount() + scenario.errors(), live.size(), run.attestStats().count(),
                    run.renewals().get(), scenario.bundleChanges());
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
}
