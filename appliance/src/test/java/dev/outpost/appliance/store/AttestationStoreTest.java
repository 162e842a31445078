package dev.outpost.appliance.store;

import static dev.outpost.appliance.store.StoreFixtures.T0;
import static dev.outpost.appliance.store.StoreFixtures.device;
import static dev.outpost.appliance.store.StoreFixtures.id;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Routine passes wait in memory until a flush; state changes are written at once and never overwritten by one. */
class AttestationStoreTest {
    @TempDir
    Path dir;
    Database db;
    DeviceStore devices;
    AttestationStore store;

    @BeforeEach
    void open() {
        db = Database.open(dir);
        devices = new DeviceStore(db, Clock.fixed(T0, ZoneOffset.UTC));
        devices.upsertEnrolled(device(1));
        devices.upsertEnrolled(device(2));
        store = new AttestationStore(db);
    }

    @AfterEach
    void close() {
        db.close();
    }

    private static AttestationRecord pass(int device, long clock, Instant at) {
        return new AttestationRecord(id(device), 1L, 0L, clock, new byte[] {(byte) clock}, true, "rt", null, "trusted",
                "", at, at);
    }

    /** What a restarted appliance would read: a second store on the same database has no memory of its own. */
    private AttestationRecord onDisk(int device) {
        return new AttestationStore(db).get(id(device));
    }

    @Test
    void routinePassIsServedFromMemoryAndWrittenAtFlush() {
        assertThat(store.recordVerdict(pass(1, 10, T0), DeviceState.TRUSTED, T0)).isTrue();
        store.recordRoutinePass(pass(1, 20, T0.plusSeconds(60)));

        assertThat(store.get(id(1)).tpmClock()).isEqualTo(20);
        assertThat(onDisk(1).tpmClock()).as("not written before the flush").isEqualTo(10);

        assertThat(store.flush()).isEqualTo(1);
        assertThat(onDisk(1).tpmClock()).isEqualTo(20);
        assertThat(onDisk(1).lastPassedAt()).isEqualTo(T0.plusSeconds(60));
        assertThat(store.flush()).as("nothing left").isZero();
    }

    @Test
    void aStateChangeIsWrittenAtOnceAndALaterFlushDoesNotUndoIt() {
        store.recordRoutinePass(pass(1, 20, T0));
        AttestationRecord failed = new AttestationRecord(id(1), 1L, 0L, 30L, null, false, "rt", null, "failed",
                "ima.unknown", T0.plusSeconds(1), T0);
        assertThat(store.recordVerdict(failed, DeviceState.FAILED, T0.plusSeconds(1))).isTrue();

        assertThat(onDisk(1).lastVerdict()).isEqualTo("failed");
        assertThat(devices.find(id(1)).orElseThrow().state()).isEqualTo(DeviceState.FAILED);
        store.flush();
        assertThat(onDisk(1).lastVerdict()).as("the older pass must not overwrite the failure").isEqualTo("failed");
        assertThat(store.get(id(1)).tpmClock()).isEqualTo(30);
    }

    /** The verdict and the record that says why commit together; a verdict a revocation overtook is still audited. */
    @Test
    void aVerdictIsWrittenWithItsAuditRecordAndARefusedOneIsStillAudited() {
        AuditLog audit = new AuditLog(db);
        AttestationRecord failed = new AttestationRecord(id(1), 1L, 0L, 30L, null, false, "rt", null, "failed",
                "ima.unknown", T0.plusSeconds(1), T0);
        assertThat(store.recordVerdict(failed, DeviceState.FAILED, T0.plusSeconds(1), audit,
                AuditEvent.of(T0.plusSeconds(1), id(1), "attest", AuditEvent.Decision.DENY, "ima.unknown", null))).isTrue();
        assertThat(devices.find(id(1)).orElseThrow().state()).isEqualTo(DeviceState.FAILED);
        assertThat(audit.forDevice(id(1), 10)).singleElement().satisfies(e -> {
            assertThat(e.action()).isEqualTo("attest");
            assertThat(e.reason()).isEqualTo("ima.unknown");
        });

        assertThat(devices.revoke(id(2), "stolen", T0)).isTrue();
        assertThat(store.recordVerdict(pass(2, 10, T0.plusSeconds(2)), DeviceState.TRUSTED, T0.plusSeconds(2), audit,
                AuditEvent.of(T0.plusSeconds(2), id(2), "attest", AuditEvent.Decision.ALLOW, "attestation passed", null)))
                .as("a revoked device is not made trusted by a verdict").isFalse();
        assertThat(devices.find(id(2)).orElseThrow().state()).isEqualTo(DeviceState.REVOKED);
        assertThat(audit.forDevice(id(2), 10)).anySatisfy(e -> assertThat(e.reason()).isEqualTo("attestation passed"));
    }

    @Test
    void theStaleSweepCountsPassesNotYetWritten() {
        store.recordVerdict(pass(1, 10, T0), DeviceState.TRUSTED, T0);
        store.recordVerdict(pass(2, 10, T0), DeviceState.TRUSTED, T0);
        store.recordRoutinePass(pass(1, 20, T0.plusSeconds(600)));

        assertThat(store.trustedNotPassedSince(T0.plusSeconds(300))).containsExactly(id(2));
        assertThat(onDisk(1).tpmClock()).as("counted, not written: a sweep is no burst of writes").isEqualTo(10);
        store.recordRoutinePass(pass(2, 20, T0.plusSeconds(100)));
        assertThat(store.trustedNotPassedSince(T0.plusSeconds(300))).as("a pass in memory that is too old")
                .containsExactly(id(2));
    }

    /**
     * Each device's passes are written once they have waited the time asked, counted from its first pass not yet
     * written, so the timer's frequent calls write a slice at a time and each device about once per interval.
     */
    @Test
    void passesAreWrittenOnceTheyHaveWaitedTheirTime() {
        long[] now = {0};
        AttestationStore timed = new AttestationStore(db, () -> now[0]);
        java.time.Duration held = java.time.Duration.ofSeconds(9);
        timed.recordVerdict(pass(1, 10, T0), DeviceState.TRUSTED, T0);
        timed.recordVerdict(pass(2, 10, T0), DeviceState.TRUSTED, T0);

        timed.recordRoutinePass(pass(1, 11, T0.plusSeconds(1)));
        now[0] = 5_000_000_000L;
        timed.recordRoutinePass(pass(2, 11, T0.plusSeconds(5)));
        timed.recordRoutinePass(pass(1, 12, T0.plusSeconds(5)));
        now[0] = 8_999_999_999L;
        assertThat(timed.flushHeldFor(held)).as("nothing has waited 9 s yet").isZero();

        now[0] = 9_000_000_000L;
        assertThat(timed.flushHeldFor(held)).isEqualTo(1);
        assertThat(onDisk(1).tpmClock()).as("device 1's latest pass; its wait began with the first").isEqualTo(12);
        assertThat(onDisk(2).tpmClock()).as("device 2 has waited 4 s").isEqualTo(10);
        assertThat(timed.get(id(2)).tpmClock()).isEqualTo(11);

        now[0] = 14_000_000_000L;
        assertThat(timed.flushHeldFor(held)).isEqualTo(1);
        assertThat(onDisk(2).tpmClock()).isEqualTo(11);
        assertThat(timed.flushHeldFor(java.time.Duration.ZERO)).isZero();
    }

    @Test
    void resetForgetsPassesInMemoryToo() {
        store.recordVerdict(pass(1, 10, T0), DeviceState.TRUSTED, T0);
        store.recordRoutinePass(pass(1, 20, T0.plusSeconds(60)));
        store.reset(id(1));

        assertThat(store.get(id(1))).isEqualTo(AttestationRecord.fresh(id(1)));
        store.flush();
        assertThat(onDisk(1)).isEqualTo(AttestationRecord.fresh(id(1)));
    }

    /**
     * An operator's clear: the device's state, its audit record and the reset of its attestation record commit
     * together, or none of them does (a crash between them left a cleared device resuming from its old IMA state).
     */
    @Test
    void aClearResetsTheRecordInItsOwnTransactionOrNotAtAll() {
        AuditLog audit = new AuditLog(db);
        AttestationRecord failed = new AttestationRecord(id(1), 1L, 0L, 30L, new byte[] {7}, false, "rt", null,
                "failed", "ima.unknown", T0.plusSeconds(1), T0);
        store.recordVerdict(failed, DeviceState.FAILED, T0.plusSeconds(1));
        AuditEvent cleared = AuditEvent.of(T0.plusSeconds(2), id(1), "clear", AuditEvent.Decision.INFO, "cleared", "operator");

        // The audit write fails inside the transaction: the state and the record stay as they were.
        assertThatThrownBy(() -> store.reset(id(1), c -> {
            devices.clear(c, id(1), T0.plusSeconds(2), audit, cleared);
            throw new java.sql.SQLException("disk full");
        })).isInstanceOf(RuntimeException.class);
        assertThat(devices.find(id(1)).orElseThrow().state()).isEqualTo(DeviceState.FAILED);
        assertThat(onDisk(1).tpmClock()).isEqualTo(30);
        assertThat(audit.forDevice(id(1), 10)).noneMatch(e -> e.action().equals("clear"));

        assertThat(store.reset(id(1), c -> devices.clear(c, id(1), T0.plusSeconds(2), audit, cleared))).isTrue();
        assertThat(devices.find(id(1)).orElseThrow().state()).isEqualTo(DeviceState.PENDING);
        assertThat(onDisk(1)).isEqualTo(AttestationRecord.fresh(id(1)));
        assertThat(audit.forDevice(id(1), 10)).anyMatch(e -> e.action().equals("clear"));

        // A revoked device is not cleared: its record and the passes held for it stay.
        store.recordVerdict(pass(2, 10, T0), DeviceState.TRUSTED, T0);
        store.recordRoutinePass(pass(2, 20, T0.plusSeconds(60)));
        assertThat(devices.revoke(id(2), "stolen", T0.plusSeconds(61))).isTrue();
        assertThat(store.reset(id(2), c -> devices.clear(c, id(2), T0.plusSeconds(62), audit, cleared))).isFalse();
        assertThat(store.get(id(2)).tpmClock()).isEqualTo(20);
    }

    @Test
    void oneUnwritableRecordDoesNotHoldBackTheOthers() {
        store.recordRoutinePass(pass(1, 20, T0));
        store.recordRoutinePass(pass(9, 20, T0)); // no such device: the foreign key refuses it
        store.recordRoutinePass(pass(2, 20, T0));

        store.flush();
        assertThat(onDisk(1).tpmClock()).isEqualTo(20);
        assertThat(onDisk(2).tpmClock()).isEqualTo(20);
        assertThat(onDisk(9)).isEqualTo(AttestationRecord.fresh(id(9)));
        assertThat(store.flush()).as("the bad record was dropped, not retried forever").isZero();
    }
}
