package dev.outpost.appliance.outbox;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.appliance.config.ApplianceConfig;
import dev.outpost.appliance.store.Database;
import dev.outpost.appliance.store.OutboxStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;

/**
 * Runs the outbox at the appliance: the sender (when the site has an upstream link), the periodic summary, pruning of
 * sent rows and the metrics' snapshot, all on one worker thread of their own. A slow or dead link holds that thread
 * only: device traffic keeps the shared worker pool.
 */
public final class OutboxService {
    private static final Logger LOG = LoggerFactory.getLogger(OutboxService.class);
    static final Duration TICK = Duration.ofSeconds(2);
    static final Duration PRUNE_EVERY = Duration.ofMinutes(1);

    private final Database db;
    private final ApplianceConfig.Outbox config;
    private final OutboxSender sender;
    private final SiteSummary summary;
    private final OutboxMetrics metrics;
    private final Clock clock;
    private final AtomicBoolean ticking = new AtomicBoolean();
    private final AtomicBoolean summarising = new AtomicBoolean();
    private Instant lastPrune = Instant.MIN;
    private WorkerExecutor worker;

    /** @param link null when the site has no upstream URL: rows are kept (bounded) for a later join, not sent */
    public OutboxService(Database db, ApplianceConfig.Outbox config, OutboxSender.Link link, Supplier<Instant> caNotAfter,
            Clock clock) {
        this.db = db;
        this.config = config;
        this.clock = clock;
        this.sender = link == null ? null : new OutboxSender(db.outbox(), link, clock, config.batchRows());
        this.summary = new SiteSummary(db, caNotAfter, clock);
        this.metrics = new OutboxMetrics(db.outbox(), clock);
    }

    public OutboxService start(Vertx vertx, MeterRegistry registry) {
        metrics.bind(registry);
        worker = vertx.createSharedWorkerExecutor("outpost-outbox-" + System.identityHashCode(this), 1,
                Duration.ofMinutes(2).toNanos());
        vertx.setPeriodic(0, TICK.toMillis(), t -> run(ticking, this::tick));
        vertx.setPeriodic(config.summaryEvery().toMillis(), t -> run(summarising, summary::append));
        return this;
    }

    // Skips a round while the previous one of the same job still runs (a slow link), rather than queueing rounds.
    private void run(AtomicBoolean busy, java.util.concurrent.Callable<?> job) {
        if (!busy.compareAndSet(false, true)) {
            return;
        }
        worker.executeBlocking(() -> {
            try {
                return job.call();
            } finally {
                busy.set(false);
            }
        }, true).onFailure(e -> LOG.warn("outbox: {}", e.toString()));
    }

    /** One round: send (if linked), prune, refresh the metrics. Blocking; public for tests that drive it by hand. */
    public int tick() {
        int sent = sender == null ? 0 : sender.drain();
        Instant now = clock.instant();
        if (Duration.between(lastPrune, now).compareTo(PRUNE_EVERY) >= 0 || lastPrune == Instant.MIN) {
            lastPrune = now;
            int pruned = db.outbox().pruneSent(now.minus(config.sentRetention()));
            if (pruned > 0) {
                LOG.debug("outbox: pruned {} sent rows", pruned);
            }
        }
        metrics.refresh();
        return sent;
    }

    /** Sends now, whatever the back-off says (the link is known to be back). Blocking. */
    public int sendNow() {
        if (sender != null) {
            sender.retryNow();
        }
        return tick();
    }

    public OutboxStore store() {
        return db.outbox();
    }

    public SiteSummary summary() {
        return summary;
    }

    /** For the admin API's status (the snapshot of the last tick: no JDBC on the event loop). */
    public Map<String, Object> status() {
        OutboxStore.Backlog b = metrics.snapshot();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("linked", sender != null);
        m.put("backlogRows", b.rows());
        m.put("backlogBytes", b.bytes());
        m.put("oldestAt", b.oldestAt() == null ? null : b.oldestAt().toString());
        m.put("oldestAgeSeconds", (long) metrics.oldestAgeSeconds());
        m.put("coalesced", b.coalesced());
        m.put("lastSeq", b.lastSeq());
        m.put("ackedThrough", b.ackedThrough());
        m.put("maxRows", config.maxRows());
        m.put("maxBytes", config.maxBytes());
        if (sender != null) {
            m.put("lastSuccess", sender.lastSuccess() == null ? null : sender.lastSuccess().toString());
            m.put("lastError", sender.lastError());
            m.put("batchRowsNow", sender.batchRowsNow());
            m.put("batchTimeouts", sender.batchTimeouts());
        }
        return m;
    }
}
