package dev.outpost.appliance.timers;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.vertx.core.Vertx;

/** A periodic task that hangs (a database that does not answer) holds one worker, not one per tick; one that fails runs again. */
class PeriodicTest {
    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void close() {
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }

    @Test
    void aTickIsSkippedWhileTheLastRunHasNotFinished() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger started = new AtomicInteger();
        AtomicInteger finished = new AtomicInteger();
        Periodic.every(vertx, Duration.ofMillis(10), "hanging", () -> {
            started.incrementAndGet();
            release.await();
            return finished.incrementAndGet();
        });

        // Fifty ticks: each would have taken a worker of its own, all twenty of them within a fifth of a second.
        Thread.sleep(500);
        assertThat(started).as("runs started while the first hangs").hasValue(1);
        AtomicInteger probe = new AtomicInteger();
        vertx.executeBlocking(probe::incrementAndGet, false).toCompletionStage().toCompletableFuture()
                .get(5, TimeUnit.SECONDS);
        assertThat(probe).as("a worker is free for other work (the readiness probe)").hasValue(1);

        release.countDown();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (finished.get() < 3 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(finished.get()).as("ticks run again once it finished").isGreaterThanOrEqualTo(3);
    }

    @Test
    void aTaskThatFailsRunsAgainAtTheNextTick() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch succeeded = new CountDownLatch(1);
        Periodic.every(vertx, Duration.ofMillis(10), "failing", () -> {
            if (runs.incrementAndGet() <= 3) {
                throw new IllegalStateException("database closed");
            }
            succeeded.countDown();
            return null;
        });
        assertThat(succeeded.await(5, TimeUnit.SECONDS)).as("a run after three failures").isTrue();
        assertThat(runs.get()).isGreaterThanOrEqualTo(4);
    }

    @Test
    void nowAndEveryRunsOnceRightAway() throws Exception {
        CountDownLatch ran = new CountDownLatch(1);
        Periodic.nowAndEvery(vertx, Duration.ofHours(1), "first poll", () -> {
            ran.countDown();
            return null;
        });
        assertThat(ran.await(5, TimeUnit.SECONDS)).as("the first run, an hour before the first tick").isTrue();
    }
}
