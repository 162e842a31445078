package dev.outpost.appliance.store;

import static dev.outpost.appliance.store.StoreFixtures.T0;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.appliance.audit.AuditVerifier;
import dev.outpost.appliance.store.AuditEvent.Decision;

/** Appends from many threads and transactions, and retention pruning a prefix. */
class AuditChainTest {
    @TempDir
    Path dir;
    private Database db;

    @BeforeEach
    void open() {
        db = Database.open(dir);
    }

    @AfterEach
    void close() {
        db.close();
    }

    @Test
    void appendsFromManyThreadsAndCallerTransactionsFormOneUnforkedChain() throws Exception {
        AuditLog audit = new AuditLog(db);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int thread = t;
                fs.add(pool.submit(() -> {
                    for (int i = 0; i < 60; i++) {
                        AuditEvent e = AuditEvent.of(T0.plusMillis(i), null, i % 10 == 0 ? "revoke" : "issue",
                                Decision.ALLOW, "thread " + thread + " #" + i, null);
                        if (i % 7 == 0) {
                            // inside a caller's own transaction (as a directive is applied)
                            db.inTransaction(c -> {
                                audit.record(c, e);
                                return null;
                            });
                        } else {
                            audit.record(e);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        AuditVerifier.Report r = AuditVerifier.verify(db, false, null, null);
        assertThat(r.problems()).isEmpty();
        long routine = db.inTransaction(c -> AuditChainRows.state(c, false)).headSeq();
        long lasting = db.inTransaction(c -> AuditChainRows.state(c, true)).headSeq();
        assertThat(routine + lasting).isEqualTo(480);
        assertThat(lasting).isEqualTo(48);
        assertThat(r.notes()).anyMatch(n -> n.startsWith("unanchored"));
    }

    @Test
    void retentionPrunesAPrefixAndMovesTheBaseSoTheRestStillVerifies() {
        AuditLog audit = new AuditLog(db);
        for (int i = 0; i < 30; i++) {
            audit.record(AuditEvent.of(T0.plusSeconds(i), null, "issue", Decision.ALLOW, "r" + i, null));
        }
        // a lasting row in the middle of the routine ones: it must not hold the routine chain back
        audit.record(AuditEvent.of(T0.plusSeconds(15), null, "revoke", Decision.DENY, "operator", null));
        MovableClockForChain clock = new MovableClockForChain(T0.plus(Duration.ofDays(30)).plusSeconds(20));
        Retention r = new Retention(db, clock, new Retention.Settings(Duration.ofDays(30), Duration.ofDays(365),
                Duration.ofDays(7), 7, 50));
        Retention.Pruned p = r.run();
        assertThat(p.audit()).isEqualTo(20);
        assertThat(p.auditLasting()).isZero();
        AuditChainRows.State st = db.inTransaction(c -> AuditChainRows.state(c, false));
        assertThat(st.baseSeq()).isEqualTo(20);
        AuditVerifier.Report v = AuditVerifier.verify(db, false, null, null);
        assertThat(v.problems()).isEmpty();
        assertThat(v.notes()).anyMatch(n -> n.contains("seq 1..20 pruned by retention (not tampering)"));
    }

    @Test
    void retentionDoesNotPruneAnEditedRowIntoThePast() {
        AuditLog audit = new AuditLog(db);
        for (int i = 0; i < 10; i++) {
            audit.record(AuditEvent.of(T0.plusSeconds(i), null, "issue", Decision.ALLOW, "r" + i, null));
        }
        db.inTransaction(c -> c.createStatement().executeUpdate("UPDATE audit SET reason = 'edited' WHERE chain_seq = 4"));
        Retention r = new Retention(db, new MovableClockForChain(T0.plus(Duration.ofDays(60))), new Retention.Settings(
                Duration.ofDays(30), Duration.ofDays(365), Duration.ofDays(7), 100, 50));
        r.run();
        assertThat(db.inTransaction(c -> AuditChainRows.state(c, false)).baseSeq()).as("pruned up to the edit only")
                .isEqualTo(3);
        AuditVerifier.Report v = AuditVerifier.verify(db, false, null, null);
        assertThat(v.problems()).singleElement().satisfies(x -> assertThat(x.message()).contains("seq 4"));
    }

    /** A fixed clock the retention run reads. */
    static final class MovableClockForChain extends java.time.Clock {
        private final Instant now;

        MovableClockForChain(Instant now) {
            this.now = now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return java.time.ZoneOffset.UTC;
        }

        @Override
        public java.time.Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
