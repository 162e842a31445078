package dev.outpost.appliance.store;

import static dev.outpost.appliance.store.StoreFixtures.T0;
import static dev.outpost.appliance.store.StoreFixtures.device;
import static dev.outpost.appliance.store.StoreFixtures.id;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.appliance.store.AuditEvent.Decision;

/** The history tables keep what an operator needs for the configured time, and lose the rest in small batches. */
class RetentionTest {
    private static final Duration AUDIT = Duration.ofDays(90);
    private static final Duration LASTING = Duration.ofDays(1825);
    private static final Duration SVIDS = Duration.ofDays(7);

    @TempDir
    Path dir;
    private Database db;
    private final MovableClock clock = new MovableClock(T0);

    @BeforeEach
    void open() {
        db = Database.open(dir);
    }

    @AfterEach
    void close() {
        db.close();
    }

    private Retention retention(int batchSize, int maxBatches) {
        return new Retention(db, clock, new Retention.Settings(AUDIT, LASTING, SVIDS, batchSize, maxBatches));
    }

    @Test
    void routineAuditGoesAfterItsPeriodAndRevocationsAndOperatorActionsStayLonger() {
        AuditLog audit = new AuditLog(db);
        Instant old = T0.minus(AUDIT).minusSeconds(1);
        audit.record(AuditEvent.of(old, id(1), "issue", Decision.ALLOW, "renewed", null));
        audit.record(AuditEvent.of(old, id(1), "evidence", Decision.DENY, "E_NONCE: stale nonce", null));
        audit.record(AuditEvent.of(old, id(1), "stale", Decision.DENY, "no passing attestation", null));
        audit.record(AuditEvent.of(old, id(1), "attest", Decision.INFO, "pending", null));
        audit.record(AuditEvent.of(old, id(1), "enroll", Decision.ALLOW, "EK trusted by cert", null));
        audit.record(AuditEvent.of(old, id(1), "activate", Decision.ALLOW, "credential activated", null));
        audit.record(AuditEvent.of(old, id(1), "attest", Decision.DENY, "boot log: PCR 4 mismatch", null));
        audit.record(AuditEvent.of(old, id(1), "revoke", Decision.DENY, "stolen", "operator"));
        audit.record(AuditEvent.of(old, null, "policy", Decision.INFO, "stored runtime policy p", null));
        audit.record(AuditEvent.of(T0.minus(AUDIT).plusSeconds(1), id(2), "issue", Decision.ALLOW, "just inside", null));

        clock.set(T0);
        Retention.Pruned p = retention(1000, 10).run();

        assertThat(p.audit()).as("the four routine rows older than 90 days").isEqualTo(4);
        assertThat(actions(audit)).containsExactlyInAnyOrder("enroll", "activate", "attest", "revoke", "policy", "issue");
        assertThat(audit.forDevice(id(2), 10)).as("a routine row inside the period stays").hasSize(1);

        // five years on, the lasting rows go too
        clock.set(old.plus(LASTING).plusSeconds(1));
        assertThat(retention(1000, 10).run().auditLasting()).isEqualTo(5);
        assertThat(actions(audit)).isEmpty();
    }

    @Test
    void theLastIssuancePerDeviceAndEveryUnexpiredSvidStay() {
        DeviceStore devices = new DeviceStore(db, clock);
        devices.upsertEnrolled(device(1));
        devices.upsertEnrolled(device(2));
        devices.upsertEnrolled(device(3));
        // device 1 renewed hourly for a day, a month ago: only its last SVID is worth keeping
        for (int h = 0; h < 24; h++) {
            Instant at = T0.minus(Duration.ofDays(30)).plus(Duration.ofHours(h));
            clock.set(at);
            devices.recordSvid(id(1), serial(1, h), "spiffe://site.test/agent/tpm/" + id(1), at, at.plus(Duration.ofHours(1)));
        }
        // device 2: an SVID that expired three days ago (inside the 7 days), then a current one
        clock.set(T0.minus(Duration.ofDays(3)).minus(Duration.ofHours(1)));
        devices.recordSvid(id(2), serial(2, 0), "spiffe://x/2", clock.instant(), clock.instant().plus(Duration.ofHours(1)));
        // device 3: two SVIDs issued an hour apart, both still valid for a day: the older is superseded, not expired
        clock.set(T0.minus(Duration.ofHours(2)));
        devices.recordSvid(id(3), serial(3, 0), "spiffe://x/3", clock.instant(), clock.instant().plus(Duration.ofDays(1)));
        clock.set(T0.minus(Duration.ofHours(1)));
        devices.recordSvid(id(3), serial(3, 1), "spiffe://x/3", clock.instant(), clock.instant().plus(Duration.ofDays(1)));
        clock.set(T0);
        devices.recordSvid(id(2), serial(2, 1), "spiffe://x/2", T0, T0.plus(Duration.ofHours(1)));

        Retention.Pruned p = retention(1000, 10).run();

        assertThat(p.svids()).isEqualTo(23);
        assertThat(devices.svidSerials(id(1), 100)).as("device 1 keeps its last issuance, a month old")
                .containsExactly(serial(1, 23));
        assertThat(devices.find(id(1)).orElseThrow().svidSerial()).isEqualTo(serial(1, 23));
        assertThat(devices.svidSerials(id(2), 100)).containsExactlyInAnyOrder(serial(2, 0), serial(2, 1));
        assertThat(devices.svidSerials(id(3), 100)).containsExactlyInAnyOrder(serial(3, 0), serial(3, 1));

        // a year on, nothing has expired less than 7 days ago: each device keeps exactly its last issuance
        clock.set(T0.plus(Duration.ofDays(365)));
        retention(1000, 10).run();
        for (int n = 1; n <= 3; n++) {
            assertThat(devices.svidSerials(id(n), 100)).containsExactly(devices.find(id(n)).orElseThrow().svidSerial());
        }
    }

    @Test
    void aRunDeletesInBoundedBatchesAndLeavesTheRestForTheNext() {
        AuditLog audit = new AuditLog(db);
        Instant old = T0.minus(AUDIT).minus(Duration.ofDays(1));
        for (int i = 0; i < 250; i++) {
            audit.record(AuditEvent.of(old.plusSeconds(i), id(1), "issue", Decision.ALLOW, "renewed " + i, null));
        }
        clock.set(T0);
        Retention r = retention(100, 2);

        assertThat(r.pruneAudit(false, T0.minus(AUDIT))).as("one batch is one bounded DELETE").isEqualTo(100);
        assertThat(count("audit")).isEqualTo(150);
        assertThat(r.run().audit()).as("two batches of 100 at most per run, and only 150 were left").isEqualTo(150);

        for (int i = 0; i < 250; i++) {
            audit.record(AuditEvent.of(old.plusSeconds(i), id(1), "issue", Decision.ALLOW, "renewed " + i, null));
        }
        assertThat(r.run().audit()).as("the run stops after its two batches").isEqualTo(200);
        assertThat(count("audit")).isEqualTo(50);
        assertThat(r.run().audit()).isEqualTo(50);
        assertThat(count("audit")).isZero();
    }

    @Test
    void rowsWrittenBeforeTheMigrationAreClassifiedByTheSameRule() {
        // The migration's UPDATE and AuditEvent.lasting must agree, or old rows would be kept for the wrong period:
        // rows as an older version wrote them (all false, unchained: before V7), then the migration's rule.
        AuditLog audit = new AuditLog(db);
        List<AuditEvent> samples = new ArrayList<>();
        for (String action : List.of("revoke", "clear", "allow", "policy", "backup", "enroll", "activate", "attest",
                "issue", "stale", "evidence")) {
            for (Decision d : Decision.values()) {
                samples.add(AuditEvent.of(T0, id(1), action, d, "r", null));
            }
        }
        samples.forEach(audit::record);
        db.inTransaction(c -> c.createStatement().executeUpdate(
                "UPDATE audit SET lasting = FALSE, chain_seq = NULL, chain_prev = NULL, chain_hash = NULL"));
        db.inTransaction(c -> c.createStatement().executeUpdate(migrationUpdate()));
        List<String> wrong = new ArrayList<>();
        db.inTransaction(c -> {
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT action, decision, lasting FROM audit")) {
                while (rs.next()) {
                    AuditEvent e = AuditEvent.of(T0, null, rs.getString(1), Decision.valueOf(rs.getString(2).toUpperCase()),
                            "r", null);
                    boolean migrated = rs.getBoolean(3);
                    if (migrated != e.lasting()) {
                        wrong.add(e.action() + "/" + e.decision() + ": migration says " + migrated);
                    }
                }
            }
            return null;
        });
        assertThat(wrong).isEmpty();
    }

    /** The UPDATE of V3__retention.sql, as shipped. */
    private static String migrationUpdate() {
        try (var in = RetentionTest.class.getResourceAsStream("/db/migration/V3__retention.sql")) {
            String sql = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            int start = sql.indexOf("UPDATE audit");
            return sql.substring(start, sql.indexOf(';', start));
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    private List<String> actions(AuditLog audit) {
        return audit.recent(1000).stream().map(AuditEvent::action).toList();
    }

    private long count(String table) {
        return db.inTransaction(c -> {
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + table)) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    private static String serial(int device, int n) {
        return String.format("%02x%04x", device, n);
    }

    /** A clock tests move instead of sleeping. */
    static final class MovableClock extends Clock {
        private volatile Instant now;

        MovableClock(Instant start) {
            this.now = start;
        }

        void set(Instant t) {
            now = t;
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }
}
