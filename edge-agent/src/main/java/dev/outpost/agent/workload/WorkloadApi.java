package dev.outpost.agent.workload;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.agent.workload.WorkloadIssuer.IssuerException;
import dev.outpost.mqtt.protocol.Verdict;

/**
 * The agent's Workload API, whole: the socket server, workload attestation, and the identities it serves. What the
 * agent (or a site test) constructs; the daemon tells it what happens to the node ({@link #onConnected},
 * {@link #onVerdict}, {@link #nodeIdentityLost}, {@link #bundlesChanged}).
 */
public final class WorkloadApi implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WorkloadApi.class);

    /**
     * @param socket         the Unix socket path
     * @param proc           {@code /proc}
     * @param passwd         {@code /etc/passwd}, for {@code unix:user}
     * @param group          {@code /etc/group}, for {@code unix:group}
     * @param imaList        the device's IMA list, for {@code ima:verified}
     * @param maxBinaryBytes binaries bigger than this are not hashed (no {@code unix:sha256})
     * @param tick           how often held SVIDs are checked for renewal and expiry
     * @param imaRescan      how often at most the IMA list is read again for a measurement not found yet
     */
    public record Settings(Path socket, Path proc, Path passwd, Path group, Path imaList, long maxBinaryBytes,
            Duration tick, Duration imaRescan) {
        public static Settings defaults(Path socket, Path imaList, long maxBinaryBytes) {
            return new Settings(socket, Path.of("/proc"), Path.of("/etc/passwd"), Path.of("/etc/group"), imaList,
                    maxBinaryBytes, Duration.ofSeconds(5), Duration.ofSeconds(5));
        }
    }

    private final WorkloadIdentities identities;
    private final WorkloadApiServer server;
    private final ExecutorService calls;
    private final ExecutorService pushes;
    private final ScheduledExecutorService ticks;
    private final CachedBundles bundles;
    private static final long ENTRIES_RETRY_NANOS = TimeUnit.MINUTES.toNanos(1);
    private volatile long lastEntriesAttempt = System.nanoTime();

    private WorkloadApi(WorkloadIdentities identities, WorkloadApiServer server, ExecutorService calls,
            ExecutorService pushes, ScheduledExecutorService ticks, CachedBundles bundles) {
        this.identities = identities;
        this.server = server;
        this.calls = calls;
        this.pushes = pushes;
        this.ticks = ticks;
        this.bundles = bundles;
    }

    public static WorkloadApi start(Settings s, String trustDomain, WorkloadIssuer issuer, TrustBundles.Source source,
            Clock clock) throws IOException {
        ExecutorService calls = Executors.newFixedThreadPool(4, threads("outpost-workload-call"));
        ExecutorService pushes = Executors.newFixedThreadPool(2, threads("outpost-workload-push"));
        ScheduledExecutorService ticks = Executors.newSingleThreadScheduledExecutor(threads("outpost-workload-tick"));
        CachedBundles bundles = new CachedBundles(source);
        WorkloadIdentities identities = new WorkloadIdentities(trustDomain, issuer, bundles, clock, pushes);
        WorkloadAttestor attestor = new WorkloadAttestor(s.proc(), s.passwd(), s.group(), s.imaList(), s.maxBinaryBytes(),
                s.imaRescan());
        WorkloadApiServer server;
        try {
            server = WorkloadApiServer.start(s.socket(), new WorkloadApiService(attestor, identities,
                    new JwtSvidValidator(clock)), attestor.procStat(), calls);
        } catch (IOException e) {
            calls.shutdownNow();
            pushes.shutdownNow();
            ticks.shutdownNow();
            throw e;
        }
        WorkloadApi api = new WorkloadApi(identities, server, calls, pushes, ticks, bundles);
        long every = Math.max(100, s.tick().toMillis());
        ticks.scheduleWithFixedDelay(api::tick, every, every, TimeUnit.MILLISECONDS);
        LOG.info("Workload API listening on {}", s.socket());
        return api;
    }

    public WorkloadIdentities identities() {
        return identities;
    }

    public Path socket() {
        return server.socket();
    }

    /** A session with the appliance is up: ask for entries if we hold none. */
    public void onConnected() {
        if (identities.entriesRevision() < 0) {
            pushes.execute(this::refreshEntries);
        }
    }

    /** Identity follows state: a trusted verdict allows SVIDs, any other final one withdraws them. */
    public void onVerdict(Verdict v) {
        if ("trusted".equals(v.state())) {
            identities.resume();
        } else if (!"pending".equals(v.state())) {
            identities.suspend("attestation verdict " + v.state());
        }
        if (v.entriesRevision() != null && v.entriesRevision() != identities.entriesRevision()) {
            pushes.execute(this::refreshEntries);
        }
    }

    public void nodeIdentityLost(String why) {
        identities.suspend(why);
    }

    /** The site bundle moved: streams send the new trust. */
    public void bundlesChanged() {
        bundles.invalidate();
        identities.changed();
    }

    private void refreshEntries() {
        try {
            identities.refreshEntries();
        } catch (IssuerException e) {
            LOG.warn("workload entries not refreshed: {}", e.getMessage());
        }
    }

    private void tick() {
        try {
            // Entries never received (the appliance was away at connection): ask again, at most once a minute.
            if (identities.entriesRevision() < 0 && identities.serving()
                    && System.nanoTime() - lastEntriesAttempt > ENTRIES_RETRY_NANOS) {
                lastEntriesAttempt = System.nanoTime();
                refreshEntries();
            }
            identities.tick();
        } catch (RuntimeException e) {
            LOG.warn("workload SVID upkeep: {}", e.toString());
        }
    }

    @Override
    public void close() {
        ticks.shutdownNow();
        server.close();
        pushes.shutdownNow();
        calls.shutdownNow();
    }

    private static java.util.concurrent.ThreadFactory threads(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** The trust as last read, until the daemon says the site bundle moved. */
    private static final class CachedBundles implements TrustBundles.Source {
        private final TrustBundles.Source source;
        private volatile TrustBundles cached;

        CachedBundles(TrustBundles.Source source) {
            this.source = source;
        }

        @Override
        public TrustBundles current() throws IOException {
            TrustBundles t = cached;
            if (t == null) {
                t = source.current();
                cached = t;
            }
            return t;
        }

        void invalidate() {
            cached = null;
        }
    }
}
