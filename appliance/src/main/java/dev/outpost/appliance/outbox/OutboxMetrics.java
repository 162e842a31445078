package dev.outpost.appliance.outbox;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import dev.outpost.appliance.store.OutboxStore;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * {@code outpost_outbox_backlog_rows}, {@code _bytes}, {@code _oldest_age_seconds} and {@code _coalesced_total}.
 * The scrape runs on an event loop, so it reads a snapshot the outbox worker refreshes ({@link #refresh}), never
 * the database.
 */
public final class OutboxMetrics {
    private final OutboxStore outbox;
    private final Clock clock;
    private final AtomicReference<OutboxStore.Backlog> last = new AtomicReference<>(
            new OutboxStore.Backlog(0, 0, null, 0, 0, 0, -1));

    public OutboxMetrics(OutboxStore outbox, Clock clock) {
        this.outbox = outbox;
        this.clock = clock;
    }

    public OutboxMetrics bind(MeterRegistry registry) {
        Gauge.builder("outpost_outbox_backlog_rows", last, r -> r.get().rows())
                .description("Outbox rows central has not acknowledged").register(registry);
        Gauge.builder("outpost_outbox_backlog_bytes", last, r -> r.get().bytes())
                .description("Payload bytes of the unacknowledged outbox rows").register(registry);
        Gauge.builder("outpost_outbox_oldest_age_seconds", this, m -> m.oldestAgeSeconds())
                .description("Age of the oldest unacknowledged outbox row (0 when none)").register(registry);
        FunctionCounter.builder("outpost_outbox_coalesced", last, r -> r.get().coalesced())
                .description("Superseded device-state rows dropped at the outbox bound").register(registry);
        return this;
    }

    /** Reads the backlog (JDBC: a worker). */
    public OutboxStore.Backlog refresh() {
        OutboxStore.Backlog b = outbox.backlog();
        last.set(b);
        return b;
    }

    public OutboxStore.Backlog snapshot() {
        return last.get();
    }

    double oldestAgeSeconds() {
        OutboxStore.Backlog b = last.get();
        return b.oldestAt() == null ? 0 : Math.max(0, Duration.between(b.oldestAt(), clock.instant()).toMillis() / 1000.0);
    }
}
