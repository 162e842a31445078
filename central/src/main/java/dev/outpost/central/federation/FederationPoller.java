package dev.outpost.central.federation;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.central.store.BundleStore;
import dev.outpost.central.store.Database;
import dev.outpost.central.store.FederationStore;
import io.vertx.core.Vertx;

/**
 * Polls each federated trust domain's bundle endpoint at the interval its bundle's {@code spiffe_refresh_hint}
 * asks for, bounded by {@code federation.minInterval}/{@code maxInterval}. Due-ness comes from
 * {@code last_polled} in the database, so several instances share the work loosely (a rare double poll is
 * harmless). A failed poll keeps the last good bundle and records the error; a changed bundle moves the
 * sequence sites watch.
 */
public final class FederationPoller {
    private static final Logger LOG = LoggerFactory.getLogger(FederationPoller.class);
    private static final long TICK_MS = 2_000;

    private final Vertx vertx;
    private final Database db;
    private final Clock clock;
    private final BundleFetcher fetcher;
    private final Duration min;
    private final Duration max;
    private final FederationStore store = new FederationStore();
    private final BundleStore bundle = new BundleStore();
    private long timer = -1;
    private volatile boolean busy;

    public FederationPoller(Vertx vertx, Database db, Clock clock, BundleFetcher fetcher, Duration min, Duration max) {
        this.vertx = vertx;
        this.db = db;
        this.clock = clock;
        this.fetcher = fetcher;
        this.min = min;
        this.max = max;
    }

    public void start() {
        timer = vertx.setPeriodic(TICK_MS, id -> tick());
    }

    public void stop() {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
    }

    private void tick() {
        if (busy) {
            return;
        }
        busy = true;
        vertx.executeBlocking(() -> {
            pollDue();
            return null;
        }, true).onComplete(ar -> {
            busy = false;
            if (ar.failed()) {
                LOG.warn("federation poll failed: {}", ar.cause().getMessage());
            }
        });
    }

    /** Polls every relation that is due now. Public for tests that drive time. */
    public void pollDue() {
        Instant now = clock.instant();
        for (FederationStore.Relation r : db.inTransaction(store::list)) {
            if (r.lastPolled() != null && now.isBefore(r.lastPolled().plus(interval(r)))) {
                continue;
            }
            poll(r);
        }
    }

    Duration interval(FederationStore.Relation r) {
        Duration hint = r.refreshHint() == null ? Duration.ofMinutes(5) : Duration.ofSeconds(r.refreshHint());
        if (hint.compareTo(min) < 0) {
            return min;
        }
        return hint.compareTo(max) > 0 ? max : hint;
    }

    public void poll(FederationStore.Relation r) {
        Instant now = clock.instant();
        try {
            BundleFetcher.Fetched f = fetcher.fetch(r);
            Long seq = f.parsed().sequence().isPresent() ? f.parsed().sequence().getAsLong() : null;
            Long hint = f.parsed().refreshHintSeconds().isPresent() ? f.parsed().refreshHintSeconds().getAsLong() : null;
            boolean changed = db.inTransaction(c -> {
                boolean ch = store.stored(c, r.trustDomain(), f.json(), seq, hint, now);
                if (ch || r.bundle() == null) {
                    bundle.bump(c, now);
                }
                return ch;
            });
            if (changed || r.bundle() == null) {
                LOG.info("federation {}: new bundle (sequence {}), {} authorities", r.trustDomain(), seq,
                        f.parsed().x509Authorities().size());
            }
        } catch (Exception e) {
            String why = e.getMessage() == null ? e.toString() : e.getMessage();
            LOG.warn("federation {}: poll of {} failed, keeping the last bundle: {}", r.trustDomain(), r.endpointUrl(), why);
            db.inTransaction(c -> {
                store.failed(c, r.trustDomain(), why, now);
                return null;
            });
        }
    }
}
