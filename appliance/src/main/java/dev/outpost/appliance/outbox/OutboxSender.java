package dev.outpost.appliance.outbox;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.appliance.store.OutboxStore;

/**
 * Drains the outbox to central in seq order (docs/upward-link.md "Store and forward"): a batch of at most
 * {@code batchRows} rows and 1 MiB covering [ackedThrough + 1, last seq]; rows of the batch are marked sent only up
 * to what central's answer acknowledges, so a death anywhere (either side) means a resend that central recognises
 * (the same event under the same seq), never a loss. On 409 either central holds less than it acknowledged (its
 * database was restored: what is still here goes again), or ours was restored and reused seqs central holds
 * ({@code divergedAt}: our rows from there are renumbered after central's). Failures back off exponentially with
 * jitter (a fleet of sites that lost the link together does not come back in step).
 *
 * <p>Blocking (JDBC and HTTP with timeouts): run it on the sender's own single worker, so a slow link holds that
 * thread only and never the pool that serves devices.
 */
public final class OutboxSender {
    private static final Logger LOG = LoggerFactory.getLogger(OutboxSender.class);
    /** Central's limit is 1 MiB per body; the payload budget leaves room for the envelope. */
    static final long BATCH_BYTES = 900 * 1024;
    static final Duration FIRST_RETRY = Duration.ofSeconds(5);
    static final Duration MAX_RETRY = Duration.ofMinutes(5);
    /** Batches per {@link #drain()}: the next tick continues, so one call never runs for long. */
    static final int MAX_BATCHES_PER_DRAIN = 20;

    /** Sends one batch's JSON; returns central's status and body (200 and 409 carry ackedThrough). */
    @FunctionalInterface
    public interface Link {
        Reply post(String json) throws Exception;
    }

    public record Reply(int status, byte[] body) {
    }

    private final OutboxStore outbox;
    private final Link link;
    private final Clock clock;
    private final int batchRows;
    /** Rows per batch now: halved after a batch timed out (a slow link), doubled back after each success. */
    private volatile int currentRows;
    /** Batches that timed out in flight (status: a link too slow for the batch size shows here). */
    private final java.util.concurrent.atomic.AtomicLong timeouts = new java.util.concurrent.atomic.AtomicLong();
    private int failures;
    private Instant nextAttempt = Instant.MIN;
    private volatile String lastError;
    private volatile Instant lastSuccess;

    public OutboxSender(OutboxStore outbox, Link link, Clock clock, int batchRows) {
        this.outbox = outbox;
        this.link = link;
        this.clock = clock;
        this.batchRows = Math.max(1, Math.min(batchRows, 500));
        this.currentRows = this.batchRows;
    }

    /** Sends what is pending (unless backing off); returns how many rows central acknowledged in this call. */
    public synchronized int drain() {
        if (clock.instant().isBefore(nextAttempt)) {
            return 0;
        }
        int marked = 0;
        for (int i = 0; i < MAX_BATCHES_PER_DRAIN; i++) {
            List<OutboxStore.Row> rows = outbox.unsent(currentRows,
                    Math.max(1, BATCH_BYTES * currentRows / batchRows));
            if (rows.isEmpty()) {
                break;
            }
            OutboxStore.Backlog state = outbox.backlog();
            long from = state.ackedThrough() + 1;
            try {
                Reply r = link.post(EventsExchange.batch(Math.min(from, rows.get(0).seq()), rows, state.restoredThrough()));
                EventsExchange.Answer a = EventsExchange.answer(r.status(), r.body());
                marked += settle(a, rows);
                currentRows = Math.min(batchRows, currentRows * 2);
                failures = 0;
                lastError = null;
                lastSuccess = clock.instant();
            } catch (Exception e) {
                if (timedOut(e)) {
                    timeouts.incrementAndGet();
                }
                if (timedOut(e) && currentRows > 1) {
                    // A batch that cannot cross the link within the request timeout never will: send less at a time.
                    currentRows = Math.max(1, currentRows / 2);
                    LOG.info("a batch of events to central timed out: {} rows per batch from now on", currentRows);
                }
                backOff(e);
                break;
            }
        }
        return marked;
    }

    private int settle(EventsExchange.Answer a, List<OutboxStore.Row> rows) {
        if (a.divergedAt() > 0) {
            // This database was restored and numbered new events under seqs central had already taken: they move to
            // after central's, in order, and go next; the rows before them central holds.
            int moved = outbox.rebase(a.divergedAt(), a.ackedThrough(), clock.instant());
            LOG.warn("central holds other events under seqs {} to {} (this site's database was restored from a backup): "
                    + "{} event(s) renumbered to follow {}", a.divergedAt(), a.ackedThrough(), moved, a.ackedThrough());
            return 0;
        }
        long known = outbox.backlog().ackedThrough();
        if (a.status() == 409 && a.ackedThrough() < known) {
            // Central lost what it acknowledged (a restored database): send again what is still here.
            LOG.error("central holds this site's events only through {}, but acknowledged {} before: resending what is "
                    + "still kept (rows pruned since are lost to central)", a.ackedThrough(), known);
            outbox.rewind(a.ackedThrough());
            return 0;
        }
        if (a.status() == 409 && a.ackedThrough() == known) {
            // Nothing to learn from it: rows central needs are gone here (pruned while central was restored). Back off.
            throw new IllegalStateException("central reports a gap after " + known + " that this site cannot fill");
        }
        long last = rows.get(rows.size() - 1).seq();
        if (a.status() == 200 && a.ackedThrough() < last) {
            // Central says it holds less than it just took: mark only what it holds.
            LOG.warn("central acknowledged through {} of a batch through {}", a.ackedThrough(), last);
        }
        // Never past what this batch carried: central compared only these rows with what it holds, and a row of ours
        // it has not seen may sit under a seq it acknowledged (a restored database) until a batch carries it.
        return outbox.markSent(Math.min(a.ackedThrough(), last), clock.instant());
    }

    private void backOff(Exception e) {
        failures++;
        long base = Math.min(MAX_RETRY.toMillis(), FIRST_RETRY.toMillis() << Math.min(failures - 1, 16));
        long wait = base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1);
        nextAttempt = clock.instant().plusMillis(wait);
        lastError = e.getMessage() == null ? e.toString() : e.getMessage();
        if (failures == 1 || failures % 10 == 0) {
            LOG.warn("sending events to central failed ({} in a row): {}; next try in {} s", failures, lastError, wait / 1000);
        }
    }

    /** A request that reached central's address but did not finish in time (not a connect timeout). */
    static boolean timedOut(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.http.HttpTimeoutException && !(t instanceof java.net.http.HttpConnectTimeoutException)) {
                return true;
            }
        }
        return false;
    }

    /** Rows the next batch may carry (for status: not synchronized, a drain may hold the sender for long). */
    public int batchRowsNow() {
        return currentRows;
    }

    public long batchTimeouts() {
        return timeouts.get();
    }

    /** Forgets the back-off: the next {@link #drain()} tries at once. */
    public synchronized void retryNow() {
        nextAttempt = Instant.MIN;
    }

    /** The last failure's reason (null after a success), for status. */
    public String lastError() {
        return lastError;
    }

    public Instant lastSuccess() {
        return lastSuccess;
    }
}
