package dev.outpost.central.app;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.central.store.BundleStore;
import dev.outpost.central.store.Database;
import dev.outpost.central.store.IssuanceStore;
import dev.outpost.central.store.JoinStore;
import io.vertx.core.Vertx;

/**
 * Periodic upkeep, safe to run on every instance at once (each step is one idempotent transaction): expired site
 * CAs leave the bundle with a sequence bump (so the bundle never changes under an unchanged sequence), and TPM
 * join records a day past their expiry are deleted (kept that long to tell a replay from an unknown id), and sites'
 * events older than {@code events.retention} are deleted, at most {@link #PRUNE_BATCH} a pass so no transaction holds
 * the table long. Deleting old events never lets a resent one in twice: ingest compares a batch with the site's
 * acknowledged sequence, not with the rows kept.
 */
public final class Housekeeping {
    private static final Logger LOG = LoggerFactory.getLogger(Housekeeping.class);
    private static final long PERIOD_MS = 30_000;
    private static final Duration KEEP_JOINS = Duration.ofDays(1);
    static final int PRUNE_BATCH = 10_000;

    private final Vertx vertx;
    private final Database db;
    private final Clock clock;
    private final IssuanceStore issued = new IssuanceStore();
    private final JoinStore joins = new JoinStore();
    private final BundleStore bundle = new BundleStore();
    private final Duration eventRetention;
    private final AtomicBoolean running = new AtomicBoolean();
    private long timer = -1;

    public Housekeeping(Vertx vertx, Database db, Clock clock, Duration eventRetention) {
        this.vertx = vertx;
        this.db = db;
        this.clock = clock;
        this.eventRetention = eventRetention;
    }

    public void start() {
        // One pass at a time: a database that hangs holds one worker, not one per period.
        timer = vertx.setPeriodic(PERIOD_MS, id -> {
            if (!running.compareAndSet(false, true)) {
                return;
            }
            vertx.executeBlocking(() -> {
                runOnce();
                return null;
            }, false).onComplete(ar -> {
                running.set(false);
                if (ar.failed()) {
                    LOG.warn("housekeeping failed: {}", ar.cause().getMessage());
                }
            });
        });
    }

    public void stop() {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
    }

    /** One pass; public so tests that move the clock can run it. Returns the number of site CAs retired. */
    public int runOnce() {
        Instant now = clock.instant();
        int retired = db.inTransaction(c -> {
            int n = issued.retireExpired(c, now);
            if (n > 0) {
                bundle.bump(c, now);
            }
            joins.purgeTpmJoins(c, now.minus(KEEP_JOINS));
            return n;
        });
        if (retired > 0) {
            LOG.info("{} expired site CA(s) left the bundle", retired);
        }
        int pruned = pruneEvents(now.minus(eventRetention));
        if (pruned > 0) {
            LOG.info("{} site event(s) older than {} pruned", pruned, eventRetention);
        }
        return retired;
    }

    /** Deletes up to {@link #PRUNE_BATCH} events from before {@code cutoff}; returns how many. */
    public int pruneEvents(Instant cutoff) {
        return db.inTransaction(c -> {
            try (java.sql.PreparedStatement ps = c.prepareStatement("DELETE FROM site_events WHERE (site, seq) IN "
                    + "(SELECT site, seq FROM site_events WHERE at < ? ORDER BY at LIMIT " + PRUNE_BATCH + ")")) {
                dev.outpost.central.store.Sql.setInstant(ps, 1, cutoff);
                return ps.executeUpdate();
            }
        });
    }
}
