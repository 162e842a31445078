package dev.outpost.appliance.store;

import static dev.outpost.appliance.store.StoreFixtures.T0;
import static dev.outpost.appliance.store.StoreFixtures.device;
import static dev.outpost.appliance.store.StoreFixtures.id;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The caches of device rows and attestation records never answer with a row a committed write replaced, whichever
 * statement wrote it: the stores' own updates, another store's (a verdict), a cascade, or plain SQL nobody told the
 * caches about.
 */
class RowCacheTest {
    @TempDir
    Path dir;
    Database db;
    DeviceStore store;

    @BeforeEach
    void open() {
        db = Database.open(dir);
        store = new DeviceStore(db);
        store.upsertEnrolled(device(1));
        store.upsertEnrolled(device(2));
        // cached from here on
        assertThat(store.find(id(1)).orElseThrow().state()).isEqualTo(DeviceState.ENROLLED);
        assertThat(db.deviceRows().get(id(1))).isNotNull();
    }

    @AfterEach
    void close() {
        db.close();
    }

    @Test
    void aWriteByPlainSqlIsSeenAtTheNextRead() {
        db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE devices SET state = 'failed' WHERE device_id = ?")) {
                ps.setString(1, id(1));
                return ps.executeUpdate();
            }
        });
        assertThat(store.find(id(1)).orElseThrow().state()).isEqualTo(DeviceState.FAILED);
        // the other device's cached row stays
        store.find(id(2));
        assertThat(db.deviceRows().get(id(2))).isNotNull();
    }

    @Test
    void aVerdictARevocationAndADeletionAreSeenAtTheNextRead() {
        AttestationStore attestations = new AttestationStore(db);
        assertThat(attestations.recordVerdict(new AttestationRecord(id(1), 1L, 0L, 10L, new byte[] {1}, true, "rt",
                null, "trusted", "", T0, T0), DeviceState.TRUSTED, T0)).isTrue();
        assertThat(store.find(id(1)).orElseThrow().state()).isEqualTo(DeviceState.TRUSTED);
        assertThat(store.revoke(id(1), "stolen", T0.plusSeconds(1))).isTrue();
        assertThat(store.find(id(1)).orElseThrow().state()).isEqualTo(DeviceState.REVOKED);
        db.inTransaction(c -> c.createStatement().executeUpdate("DELETE FROM devices"));
        assertThat(store.find(id(1))).isEmpty();
        assertThat(store.find(id(2))).isEmpty();
    }

    @Test
    void aRolledBackWriteLeavesTheCommittedRow() {
        assertThatThrownBy(() -> db.inTransaction(c -> {
            c.createStatement().executeUpdate("UPDATE devices SET state = 'failed' WHERE device_id = '" + id(1) + "'");
            throw new IllegalStateException("changed my mind");
        })).hasMessage("changed my mind");
        assertThat(store.find(id(1)).orElseThrow().state()).isEqualTo(DeviceState.ENROLLED);
    }

    /**
     * Readers racing a writer: once a write has returned, no read that starts after it finds the row as it was
     * before, however the readers' cache fills interleave with the writer's commits.
     */
    @Test
    void noReadStartedAfterAWriteReturnedFindsTheRowBeforeIt() throws Exception {
        java.util.concurrent.atomic.AtomicReference<java.time.Instant> written = new java.util.concurrent.atomic.AtomicReference<>(
                store.find(id(1)).orElseThrow().updatedAt());
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicReference<String> wrong = new java.util.concurrent.atomic.AtomicReference<>();
        List<Thread> readers = new java.util.ArrayList<>();
        for (int r = 0; r < 3; r++) {
            Thread t = new Thread(() -> {
                while (!done.get() && wrong.get() == null) {
                    java.time.Instant atLeast = written.get();
                    java.time.Instant seen = store.find(id(1)).orElseThrow().updatedAt();
                    if (seen.isBefore(atLeast)) {
                        wrong.set("read " + seen + " after the write of " + atLeast + " returned");
                    }
                }
            });
            t.start();
            readers.add(t);
        }
        try {
            for (int i = 1; i <= 300 && wrong.get() == null; i++) {
                java.time.Instant at = T0.plusSeconds(i);
                assertThat(store.setState(id(1), i % 2 == 0 ? DeviceState.TRUSTED : DeviceState.STALE, at)).isTrue();
                written.set(at);
            }
        } finally {
            done.set(true);
            for (Thread t : readers) {
                t.join();
            }
        }
        assertThat(wrong.get()).isNull();
    }

    /** Attestation records: flushed passes, verdicts, a reset and a cascade from the device's row are all seen. */
    @Test
    void attestationRecordsFollowEveryWrite() {
        AttestationStore attestations = new AttestationStore(db);
        assertThat(attestations.get(id(1)).lastVerdict()).as("never attested").isNull();
        assertThat(attestations.recordVerdict(record(1, 10L), DeviceState.TRUSTED, T0)).isTrue();
        assertThat(attestations.get(id(1)).tpmClock()).isEqualTo(10L);
        assertThat(db.attestationRows().get(id(1))).as("cached once read").isNotNull();

        attestations.recordRoutinePass(record(1, 11L));
        assertThat(attestations.get(id(1)).tpmClock()).as("unflushed").isEqualTo(11L);
        attestations.flush();
        assertThat(db.attestationRows().get(id(1)).tpmClock()).as("what a flush committed stays in memory")
                .isEqualTo(11L);
        assertThat(attestations.get(id(1)).tpmClock()).as("flushed").isEqualTo(11L);
        assertThat(new AttestationStore(db).get(id(1)).tpmClock()).as("a second store on the database").isEqualTo(11L);

        db.inTransaction(c -> c.createStatement().executeUpdate("UPDATE attestations SET tpm_clock = 12"));
        assertThat(attestations.get(id(1)).tpmClock()).as("plain SQL").isEqualTo(12L);

        attestations.reset(id(1));
        assertThat(attestations.get(id(1)).tpmClock()).as("reset").isNull();

        assertThat(attestations.recordVerdict(record(1, 13L), DeviceState.TRUSTED, T0)).isTrue();
        assertThat(attestations.get(id(1)).tpmClock()).isEqualTo(13L);
        db.inTransaction(c -> c.createStatement().executeUpdate("DELETE FROM devices WHERE device_id = '" + id(1) + "'"));
        assertThat(attestations.cached(id(1))).as("deleted by the cascade").isNull();
        assertThat(attestations.get(id(1)).tpmClock()).isNull();
    }

    private static AttestationRecord record(int device, Long clock) {
        return new AttestationRecord(id(device), 1L, 0L, clock, new byte[] {1}, true, "rt", null, "trusted", "", T0, T0);
    }

    /** A row read before a change committed, and offered after it was announced, is not kept. */
    @Test
    void aRowReadBeforeAChangeIsNotKept() {
        RowCache<DeviceRecord> cache = new RowCache<>(10);
        long before = cache.changes();
        DeviceRecord read = device(3);
        cache.changed(id(3));
        cache.offer(id(3), read, before);
        assertThat(cache.get(id(3))).isNull();
        cache.offer(id(3), read, cache.changes());
        assertThat(cache.get(id(3))).isSameAs(read);
    }

    @Test
    void unknownIdsAreNotCachedAndTheSizeIsBounded() {
        assertThat(store.find(id(99))).isEmpty();
        assertThat(db.deviceRows().get(id(99))).isNull();
        RowCache<DeviceRecord> cache = new RowCache<>(2);
        for (int n : List.of(1, 2, 3)) {
            cache.offer(id(n), device(n), cache.changes());
        }
        assertThat(cache.size()).isEqualTo(2);
        assertThat(cache.get(id(3))).isNull();
    }
}
