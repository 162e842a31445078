package dev.outpost.central.monitoring;

import java.sql.Connection;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import dev.outpost.central.store.Database;
import dev.outpost.central.store.StoreException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

/**
 * Whether this instance can serve sites: its database answers within a bound. A load balancer in front of several
 * instances takes out the one that cannot reach PostgreSQL, which alone would still accept connections and fail
 * every request.
 */
public final class Readiness {
    static final Duration LIMIT = Duration.ofSeconds(2);

    private final Vertx vertx;
    private final Database db;
    private final AtomicReference<Optional<String>> last = new AtomicReference<>(Optional.of("not checked yet"));
    private Future<Optional<String>> inFlight;

    public Readiness(Vertx vertx, Database db) {
        this.vertx = vertx;
        this.db = db;
    }

    /**
     * Empty when ready; else what is wrong. Answered within {@link #LIMIT} even when the database hangs; probes that
     * come while a check runs share it, so a hung database holds one worker, not one per probe.
     */
    public synchronized Future<Optional<String>> check() {
        if (inFlight != null) {
            return inFlight;
        }
        Promise<Optional<String>> answer = Promise.promise();
        long timer = vertx.setTimer(LIMIT.toMillis(), t -> answer.tryComplete(
                Optional.of("database: no answer within " + LIMIT.toSeconds() + " s (" + db.describe() + ")")));
        Future<Optional<String>> work = vertx.executeBlocking(() -> {
            try {
                boolean valid = db.inTransaction((Connection c) -> c.isValid((int) LIMIT.toSeconds()));
                return valid ? Optional.<String>empty() : Optional.of("database: connection not valid (" + db.describe() + ")");
            } catch (StoreException e) {
                return Optional.of(e.getMessage() + " (" + db.describe() + ")");
            }
        }, false);
        // Until the work ends, later probes get this answer: "no answer within 2 s" at once while it hangs.
        inFlight = answer.future();
        work.onComplete(ar -> {
            vertx.cancelTimer(timer);
            answer.tryComplete(ar.succeeded() ? ar.result() : Optional.of("database: " + ar.cause()));
            synchronized (this) {
                inFlight = null;
            }
        });
        return answer.future().onSuccess(last::set);
    }

    /** The outcome of the last check, for the gauge (a scrape does not touch the database). */
    public Optional<String> lastProblem() {
        return last.get();
    }
}
