package dev.outpost.appliance.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.appliance.store.AuditEvent;
import dev.outpost.appliance.store.AuditLog;
import dev.outpost.appliance.store.Database;
import dev.outpost.appliance.store.OutboxStore;

/**
 * Rows commit in seq order even with many writers: a reader that marks sent everything through the highest seq it
 * saw (what central's acknowledgement does) never skips a row that commits later with a lower seq.
 */
class OutboxOrderTest {
    private static final Instant T0 = Instant.parse("2026-12-06T10:00:00Z");

    @Test
    void aReaderNeverSkipsARowOfAConcurrentWriter(@TempDir Path dir) throws Exception {
        try (Database db = Database.open(dir)) {
            OutboxStore o = db.outbox();
            AuditLog audit = new AuditLog(db);
            AtomicBoolean done = new AtomicBoolean();
            ExecutorService pool = Executors.newFixedThreadPool(6);
            List<Future<?>> writers = new ArrayList<>();
            for (int w = 0; w < 5; w++) {
                int writer = w;
                writers.add(pool.submit(() -> {
                    for (int i = 0; i < 200; i++) {
                        if (i % 2 == 0) {
                            audit.record(AuditEvent.of(T0, null, "enroll", AuditEvent.Decision.INFO, "w" + writer + " " + i, null));
                        } else {
                            // A slower transaction: its seq is taken, then it does more before committing.
                            int n = i;
                            db.inTransaction(c -> {
                                long seq = o.append(c, "test", T0, null, Map.of("w", writer, "i", n));
                                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
                                return seq;
                            });
                        }
                    }
                    return null;
                }));
            }
            Future<Long> reader = pool.submit(() -> {
                long marked = 0;
                while (!done.get() || o.backlog().rows() > 0) {
                    List<OutboxStore.Row> rows = o.unsent(50, Long.MAX_VALUE);
                    if (!rows.isEmpty()) {
                        marked += o.markSent(rows.get(rows.size() - 1).seq(), T0);
                    }
                }
                return marked;
            });
            for (Future<?> f : writers) {
                f.get();
            }
            done.set(true);
            long marked = reader.get();
            OutboxStore.Backlog b = o.backlog();
            // Each audit row also brings its audit event: 5 writers x (100 audit + 100 test) rows.
            assertThat(b.lastSeq()).isEqualTo(1000);
            assertThat(marked).as("every row was seen before it was marked sent").isEqualTo(1000);
            assertThat(o.rowsAfter(0, 10_000)).hasSize(1000).extracting(OutboxStore.Row::seq).isSorted();
            pool.shutdownNow();
        }
    }

    @Test
    void theSummaryCountsDevicesByStateAndTheBacklog(@TempDir Path dir) throws Exception {
        try (Database db = Database.open(dir)) {
            db.outbox().appendAlone("audit", T0, null, Map.of());
            Instant caEnd = T0.plusSeconds(86_400 * 90);
            long seq = new SiteSummary(db, () -> caEnd, Clock.systemUTC()).append();
            OutboxStore.Row row = db.outbox().rowsAfter(seq - 1, 1).get(0);
            assertThat(row.kind()).isEqualTo("site.summary");
            var data = new ObjectMapper().readTree(row.payload());
            assertThat(data.path("caNotAfter").asText()).isEqualTo(caEnd.toString());
            assertThat(data.path("backlog").path("rows").asLong()).isEqualTo(1);
            assertThat(data.path("devices").isObject()).isTrue();
        }
    }
}
