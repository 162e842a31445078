package dev.outpost.appliance.store;

import static dev.outpost.appliance.store.StoreFixtures.T0;
import static dev.outpost.appliance.store.StoreFixtures.id;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.appliance.store.AuditEvent.Decision;

class AuditBundleOutboxTest {
    @TempDir
    Path dir;

    @Test
    void auditRecentAndPerDevice() {
        try (Database db = Database.open(dir)) {
            AuditLog log = new AuditLog(db);
            log.record(AuditEvent.of(T0, id(1), "enroll", Decision.ALLOW, "EK on allow-list", null));
            log.record(AuditEvent.of(T0.plusSeconds(1), id(2), "enroll", Decision.DENY, "EK not trusted", "detail"));
            log.record(AuditEvent.of(T0.plusSeconds(2), null, "ca", Decision.INFO, "CA created", null));
            log.record(AuditEvent.of(T0.plusSeconds(3), "../../etc", "enroll", Decision.DENY, "bad id", null));
            log.record(AuditEvent.of(T0.plusSeconds(4), id(1), "issue-svid", Decision.ALLOW, "r".repeat(5000), null));

            assertThat(log.recent(3)).extracting(AuditEvent::action).containsExactly("issue-svid", "enroll", "ca");
            assertThat(log.forDevice(id(1), 10)).extracting(AuditEvent::action).containsExactly("issue-svid", "enroll");
            AuditEvent denied = log.forDevice(id(2), 10).get(0);
            assertThat(denied.decision()).isEqualTo(Decision.DENY);
            assertThat(denied.at()).isEqualTo(T0.plusSeconds(1));
            assertThat(denied.detail()).isEqualTo("detail");
            assertThat(denied.id()).isNotNull();
            AuditEvent hostile = log.recent(2).get(1);
            assertThat(hostile.deviceId()).isNull();
            assertThat(hostile.detail()).contains("../../etc");
            assertThat(log.recent(1).get(0).reason()).hasSize(1024).endsWith("…");
            assertThatThrownBy(() -> AuditEvent.of(T0, null, "x", Decision.INFO, "", null)).hasMessageContaining("reason");
        }
    }

    @Test
    void atTheOutboxBoundRoutineAuditCoalescesAndLastingAuditIsKept() throws Exception {
        try (Database db = Database.open(dir)) {
            AuditLog log = new AuditLog(db);
            db.outbox().bound(5, Long.MAX_VALUE);
            log.record(AuditEvent.of(T0, id(1), "enroll", Decision.ALLOW, "EK on allow-list", null));
            for (int i = 0; i < 20; i++) {
                log.record(AuditEvent.of(T0.plusSeconds(1 + i), id(1), "issue", Decision.ALLOW, "renewal " + i, null));
                log.record(AuditEvent.of(T0.plusSeconds(1 + i), id(2), "issue", Decision.ALLOW, "renewal " + i, null));
            }
            log.record(AuditEvent.of(T0.plusSeconds(30), id(2), "attest", Decision.DENY, "unknown file", null));
            log.record(AuditEvent.of(T0.plusSeconds(31), id(2), "revoke", Decision.INFO, "operator", null));

            List<OutboxStore.Row> audit = db.outbox().unsent(10_000, Long.MAX_VALUE).stream()
                    .filter(r -> r.kind().equals("audit")).toList();
            com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
            List<String> reasons = new java.util.ArrayList<>();
            for (OutboxStore.Row r : audit) {
                com.fasterxml.jackson.databind.JsonNode d = json.readTree(r.payload());
                reasons.add(d.path("data").path("reason").asText(d.path("reason").asText()));
            }
            // The lasting ones all stay; of the routine renewals, each device's latest (and whatever came before the
            // bound was reached) remain, not forty.
            assertThat(reasons).contains("EK on allow-list", "unknown file", "operator");
            assertThat(reasons.stream().filter(x -> x.startsWith("renewal")).count()).isLessThanOrEqualTo(5);
            assertThat(reasons).contains("renewal 19");
            assertThat(db.outbox().backlog().coalesced()).isGreaterThanOrEqualTo(35);
            // The site's own trail keeps every record.
            assertThat(log.forDevice(id(1), 100)).hasSize(21);
        }
    }

    @Test
    void concurrentRecordsAreAllCommittedOnceWithTheirOwnIds() throws Exception {
        int threads = 16;
        int each = 50;
        try (Database db = Database.open(dir)) {
            AuditLog log = new AuditLog(db);
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            Set<Long> ids = Collections.synchronizedSet(new HashSet<>());
            try {
                java.util.List<Future<?>> fs = new java.util.ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int thread = t;
                    fs.add(pool.submit(() -> {
                        for (int i = 0; i < each; i++) {
                            long id = log.record(AuditEvent.of(T0, id(thread + 1), "t" + thread, Decision.INFO, "n" + i, null));
                            assertThat(ids.add(id)).as("id %d given twice", id).isTrue();
                            // the caller's own row is readable once record returns
                            assertThat(log.forDevice(id(thread + 1), 1).get(0).reason()).isEqualTo("n" + i);
                        }
                    }));
                }
                for (Future<?> f : fs) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(ids).hasSize(threads * each);
            assertThat(log.recent(AuditLog.MAX_LIMIT)).hasSize(threads * each);
        }
    }

    @Test
    void bundleSequenceOnlyGrowsAndSurvivesReopen() throws Exception {
        try (Database db = Database.open(dir)) {
            BundleStore b = new BundleStore(db);
            assertThat(b.sequence()).isZero();
            assertThat(b.bump()).isEqualTo(1);
            ExecutorService pool = Executors.newFixedThreadPool(4);
            Set<Long> seen = Collections.synchronizedSet(new HashSet<>());
            try {
                var futures = new java.util.ArrayList<Future<?>>();
                for (int i = 0; i < 40; i++) {
                    futures.add(pool.submit(() -> seen.add(b.bump())));
                }
                for (Future<?> f : futures) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(seen).hasSize(40);
            assertThat(b.sequence()).isEqualTo(41);
        }
        try (Database db = Database.open(dir)) {
            assertThat(new BundleStore(db).sequence()).isEqualTo(41);
        }
    }

    @Test
    void outboxInOrderUntilSent() {
        try (Database db = Database.open(dir)) {
            OutboxStore o = db.outbox();
            long a = o.appendAlone("attestation", T0, null, java.util.Map.of("n", 1));
            long b = o.appendAlone("audit", T0.plusSeconds(1), null, java.util.Map.of("n", 2));
            assertThat(o.unsent(10, 1 << 20)).extracting(OutboxStore.Row::seq).containsExactly(a, b);
            assertThat(o.markSent(a, T0.plusSeconds(5))).isEqualTo(1);
            assertThat(o.markSent(a, T0.plusSeconds(6))).isZero();
            assertThat(o.unsent(10, 1 << 20)).singleElement().satisfies(m -> assertThat(m.payload()).isEqualTo("{\"n\":2}"));
        }
    }
}
