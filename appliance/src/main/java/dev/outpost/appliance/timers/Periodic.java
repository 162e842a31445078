package dev.outpost.appliance.timers;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.vertx.core.Vertx;

/**
 * Blocking work (JDBC, the TPM, an upstream call) run on a worker every period, one run at a time.
 *
 * <p>A tick that finds the last run unfinished is skipped, not queued. A database that hangs (a disk gone, its lock
 * taken), a TPM that does not answer or a link that stalls holds each run; with a plain {@code setPeriodic} +
 * {@code executeBlocking} every tick took another worker until none was left for anything else, the readiness probe
 * included (a flush every second filled the twenty workers in twenty seconds).
 */
public final class Periodic {
    private static final Logger LOG = LoggerFactory.getLogger(Periodic.class);

    private final Vertx vertx;
    private final String what;
    private final Callable<?> work;
    private final AtomicBoolean running = new AtomicBoolean();
    private boolean failing;

    private Periodic(Vertx vertx, String what, Callable<?> work) {
        this.vertx = vertx;
        this.what = what;
        this.work = work;
    }

    /** Runs {@code work} every {@code period}, the first time one period from now. Returns the timer id. */
    public static long every(Vertx vertx, Duration period, String what, Callable<?> work) {
        Periodic p = new Periodic(vertx, what, work);
        return vertx.setPeriodic(period.toMillis(), t -> p.tick());
    }

    /** As {@link #every}, with a first run now (one that overlaps it waits for it like any tick). */
    public static long nowAndEvery(Vertx vertx, Duration period, String what, Callable<?> work) {
        Periodic p = new Periodic(vertx, what, work);
        p.tick();
        return vertx.setPeriodic(period.toMillis(), t -> p.tick());
    }

    private void tick() {
        if (!running.compareAndSet(false, true)) {
            LOG.debug("{}: the last run has not finished; this tick skipped", what);
            return;
        }
        vertx.executeBlocking(work, false).onComplete(ar -> {
            report(ar.failed() ? ar.cause() : null);
            running.set(false);
        });
    }

    // What escapes a task is said when it starts failing and when it runs again, not at every tick: a flush ticks
    // ten times a second, and a full disk fails it until space is freed (readiness says why meanwhile).
    private synchronized void report(Throwable failure) {
        if (failure instanceof java.util.concurrent.RejectedExecutionException) {
            LOG.debug("{}: not run, Vert.x is closing", what);
        } else if (failure != null && !failing) {
            failing = true;
            LOG.warn("{} failed: {} (said again when it runs again)", what, String.valueOf(failure));
        } else if (failure != null) {
            LOG.debug("{} failed again: {}", what, String.valueOf(failure));
        } else if (failing) {
            failing = false;
            LOG.info("{} runs again", what);
        }
    }
}
