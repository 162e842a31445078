package dev.outpost.central.app;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

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
 * join records a day past their expiry are deleted (kept that long to tell a replay from an unknown id).
 */
public final class Housekeeping {
    private static final Logger LOG = LoggerFactory.getLogger(Housekeeping.class);
    private static final long PERIOD_MS = 30_000;
    private static final Duration KEEP_JOINS = Duration.ofDays(1);

    private final Vertx vertx;
    private final Database db;
    private final Clock clock;
    private final IssuanceStore issued = new IssuanceStore();
    private final JoinStore joins = new JoinStore();
    private final BundleStore bundle = new BundleStore();
    private long timer = -1;

    public Housekeeping(Vertx vertx, Database db, Clock clock) {
        this.vertx = vertx;
        this.db = db;
        this.clock = clock;
    }

    public void start() {
        timer = vertx.setPeriodic(PERIOD_MS, id -> vertx.executeBlocking(() -> {
            runOnce();
            return null;
        }, false).onFailure(e -> LOG.warn("housekeeping failed: {}", e.getMessage())));
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
        return retired;
    }
}
