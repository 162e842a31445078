package dev.outpost.bench.load;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import dev.outpost.bench.load.LoadGenerator.BundleChangeResult;
import dev.outpost.spiffe.PemIo;

/**
 * While every device attests every period (in the background, as on a live site), the bundle changes
 * {@code --changes} times, {@code --gap} apart: the appliance replaces the federated trust domain's roots, bumps the
 * sequence and hands the bundle to every connection. Each change waits until every device took it (or a deadline),
 * reading the appliance's CPU and resident memory around the fan-out.
 */
final class BundleChangeScenario implements Scenario {
    static final String PARTNER = "partner.test";
    /** Attestations held up by a fan-out end after it: those ending up to a second after the last device count. */
    private static final long ATTEST_WINDOW_AFTER_NANOS = 1_000_000_000L;

    private final List<BundleChangeResult> results = Collections.synchronizedList(new ArrayList<>());
    private final Stats subscribeStats = new Stats();
    private final List<Integer> publishSeconds = Collections.synchronizedList(new ArrayList<>());
    private List<Path> pems = List.of();

    @Override
    public boolean hookedAppliance() {
        return true;
    }

    /** The federated roots of each change (made before anything is measured), then every device subscribes. */
    @Override
    public void prepare(SiteRun run, List<SimDevice> live) throws Exception {
        pems = federatedRoots(run.options(), run.work());
        subscribeStats.start();
        run.forAll(live, d -> {
            long start = System.nanoTime();
            try {
                d.followBundle("load.test");
                subscribeStats.record(start);
            } catch (Exception e) {
                subscribeStats.error("subscribe " + SiteRun.kind(e));
            }
        });
    }

    private static List<Path> federatedRoots(LoadOptions o, Path work) throws Exception {
        List<Path> out = new ArrayList<>();
        for (int k = 0; k < o.changes(); k++) {
            List<X509Certificate> certs = new ArrayList<>();
            for (int i = 0; i < o.roots(); i++) {
                certs.add(new RunCa("CN=Partner Root " + (k + 1) + "." + (i + 1) + ",O=" + PARTNER).certificate());
            }
            Path f = work.resolve("federated-" + (k + 1) + ".pem");
            Files.writeString(f, PemIo.encode(certs));
            out.add(f);
        }
        return out;
    }

    @Override
    public void run(SiteRun run, List<SimDevice> live) throws Exception {
        LoadOptions o = run.options();
        Duration total = o.gap().multipliedBy(o.changes()).plus(o.gap());
        CompletableFuture<Void> background = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                SteadyScenario.attestEvery(run, live, total);
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
            results.add(oneChange(run, live, pems.get(k)));
        }
        background.get();
    }

    /**
     * Only the well-behaved devices must take every change: a misbehaving one is failed and revoked by its second
     * attestation (the first of the background load), and the appliance disconnects it.
     */
    private BundleChangeResult oneChange(SiteRun run, List<SimDevice> all, Path pem) throws Exception {
        ApplianceProcess app = run.appliance();
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
        Stats attestStats = run.attestStats();
        publishSeconds.add(attestStats.secondOf(c.startNanos()));
        long[] lat = new long[devices.size()];
        int n = 0;
        int missing = 0;
        for (SimDevice d : devices) {
            Long taken = d.bundleTakenAt(c.sequence());
            if (taken == null) {
                missing++;
            } else {
                lat[n++] = (taken - c.startNanos()) / 1000;
            }
        }
        lat = Arrays.copyOf(lat, n);
        Arrays.sort(lat);
        long bytes = all.stream().mapToLong(SimDevice::bundleBytes).sum() - bytesBefore;
        int receivers = (int) all.stream().filter(d -> d.bundleTakenAt(c.sequence()) != null).count();
        long payload = receivers == 0 ? 0 : bytes / receivers;
        return new BundleChangeResult(c.sequence(), lat, missing, bytes, payload, (c.endNanos() - c.startNanos()) / 1e6,
                (last - c.startNanos()) / 1e6, after.cpuSeconds() - before.cpuSeconds(), before.rssBytes(),
                Math.max(rssMax[0], after.rssBytes()), after.rssBytes(),
                attestStats.latenciesEndingBetween(c.startNanos(), windowEnd), (windowEnd - c.startNanos()) / 1e9);
    }

    @Override
    public String describe(LoadOptions o) {
        return String.format("bundle-change: the site bundle changes %d times, %.0f s apart, while every device attests"
                + " every %.1f s with %d new IMA entries%n", o.changes(), o.gap().toMillis() / 1000.0,
                o.period().toMillis() / 1000.0, o.entries());
    }

    @Override
    public String report(SiteRun run, List<SimDevice> live) {
        synchronized (results) {
            synchronized (publishSeconds) {
                return BundleChangeReport.text(run.options(), live, subscribeStats, run.attestStats(), results,
                        publishSeconds);
            }
        }
    }

    @Override
    public long errors() {
        return subscribeStats.errorCount();
    }

    @Override
    public List<BundleChangeResult> bundleChanges() {
        return List.copyOf(results);
    }
}
