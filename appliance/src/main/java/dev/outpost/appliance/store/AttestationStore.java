package dev.outpost.appliance.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Attestation state per device. A verdict that changes a device's state is written at once, with the state, in
 * one transaction. A routine pass (trusted stays trusted) waits in memory and is written with the others at the
 * next flush: one commit per pass made H2 the appliance's main cost (each commit rewrites the touched B-tree pages,
 * ~40 KB for a 300-byte row) and wore the gateway's flash. Losing unflushed passes in a crash is safe: the device
 * then looks older than it is, so it re-sends IMA entries already verified or goes stale sooner, never later; every
 * refusal and state change is already on disk.
 *
 * <p>The timer writes the passes that have waited long enough ({@link #flushHeldFor}) a slice at a time rather than
 * all of them at once: one MERGE of every device's row every ten seconds took a core for a few hundred milliseconds at
 * 4,000 devices (JFR), a burst every attestation meanwhile waited behind on a two-core gateway.
 */
public final class AttestationStore {
    private static final Logger LOG = LoggerFactory.getLogger(AttestationStore.class);
    private static final String MERGE = "MERGE INTO attestations (device_id, reset_count, restart_count, tpm_clock, "
            + "ima_state, boot_verified, runtime_policy, boot_policy, last_verdict, last_reasons, last_attested_at, "
            + "last_passed_at) KEY (device_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

    private final Database db;
    private final LongSupplier nanoTime;
    private final Map<String, Held> unflushed = new ConcurrentHashMap<>();
    // Serialises writers, so a flush cannot put an older record over a newer one written at once.
    private final Object writes = new Object();
    // Writes made under that lock that may have moved a pass from memory to the table (guarded by it).
    private long written;

    /** A device's latest routine pass and since when (System.nanoTime) the device has had one waiting. */
    private record Held(AttestationRecord record, long since) {
    }

    public AttestationStore(Database db) {
        this(db, System::nanoTime);
    }

    /** {@code nanoTime}: the monotonic clock that times how long passes wait (tests move it). */
    AttestationStore(Database db, LongSupplier nanoTime) {
        this.db = db;
        this.nanoTime = nanoTime;
    }

    public AttestationRecord get(String deviceId) {
        AttestationRecord r = cached(deviceId);
        if (r != null) {
            return r;
        }
        return db.attestationRows().get(deviceId, () -> db.inTransaction(c -> find(c, deviceId)))
                .orElse(AttestationRecord.fresh(deviceId));
    }

    /**
     * The record if it is in memory (a routine pass not yet flushed, or the row as last committed), without going to
     * the database; else null (and then {@link #get} reads it, or finds the device never attested).
     */
    public AttestationRecord cached(String deviceId) {
        Held h = unflushed.get(deviceId);
        return h != null ? h.record() : db.attestationRows().get(deviceId);
    }

    private static Optional<AttestationRecord> find(Connection c, String deviceId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT device_id, reset_count, restart_count, tpm_clock, "
                + "ima_state, boot_verified, runtime_policy, boot_policy, last_verdict, last_reasons, last_attested_at, "
                + "last_passed_at FROM attestations WHERE device_id = ?")) {
            ps.setString(1, deviceId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new AttestationRecord(rs.getString(1), (Long) rs.getObject(2, Long.class),
                        (Long) rs.getObject(3, Long.class), (Long) rs.getObject(4, Long.class), rs.getBytes(5),
                        rs.getBoolean(6), rs.getString(7), rs.getString(8), rs.getString(9), rs.getString(10),
                        Sql.getInstant(rs, "last_attested_at"), Sql.getInstant(rs, "last_passed_at")));
            }
        }
    }

    /**
     * Stores the outcome of an attestation and moves the device to {@code state}, unless it was revoked or failed in
     * the meantime (an operator's decision outranks a verdict). Returns false when the device is gone, revoked, or
     * failed and this verdict is not a failure.
     */
    public boolean recordVerdict(AttestationRecord r, DeviceState state, Instant at) {
        return recordVerdict(r, state, at, null, null);
    }

    /**
     * The verdict with its audit record in one transaction: a state change is never seen, nor kept after a crash,
     * without the record that says why. The record is written whether or not the verdict is stored (every refusal
     * is audited; a verdict on a device revoked meanwhile is not stored).
     */
    public boolean recordVerdict(AttestationRecord r, DeviceState state, Instant at, AuditLog audit, AuditEvent event) {
        synchronized (writes) {
            unflushed.remove(r.deviceId());
            written++;
            return db.inTransaction(c -> {
                boolean stored = storeVerdict(c, r, state, at);
                if (audit != null) {
                    audit.record(c, event);
                }
                return stored;
            });
        }
    }

    private boolean storeVerdict(Connection c, AttestationRecord r, DeviceState state, Instant at)
            throws SQLException {
        DeviceState previous = DeviceStore.lockedState(c, r.deviceId());
        // A failed device leaves failed only by an operator's clear, never by a verdict (even a passing one).
        try (PreparedStatement ps = c.prepareStatement("UPDATE devices SET state = ?, updated_at = ? WHERE "
                + "device_id = ? AND state <> 'revoked' AND (state <> 'failed' OR ? = 'failed')")) {
            ps.setString(1, state.dbValue());
            Sql.setInstant(ps, 2, at);
            ps.setString(3, r.deviceId());
            ps.setString(4, state.dbValue());
            if (ps.executeUpdate() != 1) {
                return false;
            }
        }
        try (PreparedStatement ps = c.prepareStatement(MERGE)) {
            bind(ps, r);
            ps.executeUpdate();
        }
        DeviceStore.stateChanged(db, c, r.deviceId(), state, previous, reasonsOf(r), at);
        return true;
    }

    /**
     * A pass of a device that was trusted and stays trusted: kept in memory (and served by {@link #get}) until the
     * next {@link #flush()}. The device's row in {@code devices} is not touched, so a revocation meanwhile stands.
     */
    public void recordRoutinePass(AttestationRecord r) {
        long now = nanoTime.getAsLong();
        // The wait counts from the device's first pass not yet written: a device attesting more often than the
        // flush interval must still be written once per interval.
        unflushed.compute(r.deviceId(), (id, old) -> new Held(r, old == null ? now : old.since()));
    }

    /** Writes every routine pass held in memory, in one transaction; returns how many (at shutdown, in tests). */
    public int flush() {
        return flushHeldFor(Duration.ZERO);
    }

    /**
     * Writes, in one transaction, the routine passes of the devices that have had one waiting for at least
     * {@code held}; returns how many. Called often with {@code held} just under the flush interval, it writes each
     * device about once per interval, spread over the interval as the devices' passes are.
     */
    public int flushHeldFor(Duration held) {
        long cutoff = nanoTime.getAsLong() - held.toNanos();
        synchronized (writes) {
            List<Held> batch = new ArrayList<>();
            for (Held h : unflushed.values()) {
                if (cutoff - h.since() >= 0) {
                    batch.add(h);
                }
            }
            if (batch.isEmpty()) {
                return 0;
            }
            written++;
            RowCache<AttestationRecord> cache = db.attestationRows();
            long before = cache.changes();
            try {
                int rows = db.inTransaction(c -> {
                    try (PreparedStatement ps = c.prepareStatement(MERGE)) {
                        for (Held h : batch) {
                            bind(ps, h.record());
                            ps.addBatch();
                        }
                        int[] counts = ps.executeBatch();
                        // one row each, or the count below cannot be trusted and nothing is cached
                        return java.util.Arrays.stream(counts).allMatch(n -> n == 1) ? counts.length : -1;
                    }
                });
                // What was just committed is what the cache should hold (its rows were dropped from it at the
                // commit), so the next challenge finds them in memory: unless anything else changed an attestation
                // record meanwhile, which shows as more changes than the rows written here (one trigger call each).
                for (Held h : batch) {
                    if (rows > 0) {
                        cache.offer(h.record().deviceId(), h.record(), before + rows);
                    }
                }
            } catch (StoreException e) {
                // One bad row (its device deleted under it) must not hold back the others: write them one by one.
                LOG.warn("batched write of {} attestation records failed ({}); writing them one at a time",
                        batch.size(), e.getMessage());
                batch.removeIf(h -> !writeAlone(h));
            }
            // Only what was written: a newer pass that arrived meanwhile stays, and waits a whole interval again.
            long writtenAt = nanoTime.getAsLong();
            batch.forEach(h -> unflushed.computeIfPresent(h.record().deviceId(),
                    (id, current) -> current == h ? null : new Held(current.record(), writtenAt)));
            return batch.size();
        }
    }

    private boolean writeAlone(Held h) {
        AttestationRecord r = h.record();
        try {
            db.inTransaction(c -> {
                try (PreparedStatement ps = c.prepareStatement(MERGE)) {
                    bind(ps, r);
                    return ps.executeUpdate();
                }
            });
            return true;
        } catch (StoreException e) {
            LOG.warn("attestation record of {} not written, dropped: {}", r.deviceId(), e.getMessage());
            unflushed.remove(r.deviceId(), h);
            return false;
        }
    }

    /** Forgets what was verified (operator's clear, or a reboot): the next attestation starts from entry 0. */
    public void reset(String deviceId) {
        reset(deviceId, c -> true);
    }

    /**
     * Forgets the device's attestation record if {@code first}, run in the same transaction, says so; returns what
     * it said. Routine passes held in memory for the device are dropped only once that transaction committed (they
     * cannot be written meanwhile: flushes wait on the same lock).
     */
    public boolean reset(String deviceId, SqlWork<Boolean> first) {
        synchronized (writes) {
            written++;
            boolean done = db.inTransaction(c -> {
                if (!first.run(c)) {
                    return false;
                }
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM attestations WHERE device_id = ?")) {
                    ps.setString(1, deviceId);
                    ps.executeUpdate();
                }
                return true;
            });
            if (done) {
                unflushed.remove(deviceId);
            }
            return done;
        }
    }

    /**
     * Trusted devices whose last pass is older than {@code before}: they have gone stale. The passes held in memory
     * count (without them a device could be found stale by a pass not yet written); they are checked under the lock
     * writers take, and if a writer moved passes from memory to the table while the query ran, the query runs again
     * under it, so none is missed between the two. Writing them all first, as this did, was a second burst of writes
     * every sweep; the query stays outside the lock, so a database that hangs holds the sweep and not every writer.
     */
    public List<String> trustedNotPassedSince(Instant before) {
        long seen;
        synchronized (writes) {
            seen = written;
        }
        List<String> stale = staleOnDisk(before);
        synchronized (writes) {
            if (written != seen) {
                stale = staleOnDisk(before);
            }
            stale.removeIf(id -> {
                Held h = unflushed.get(id);
                return h != null && h.record().lastPassedAt() != null && !h.record().lastPassedAt().isBefore(before);
            });
            return stale;
        }
    }

    private List<String> staleOnDisk(Instant before) {
        return db.inTransaction(c -> {
            List<String> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT d.device_id FROM devices d LEFT JOIN attestations a "
                    + "ON a.device_id = d.device_id WHERE d.state = 'trusted' AND (a.last_passed_at IS NULL "
                    + "OR a.last_passed_at < ?)")) {
                Sql.setInstant(ps, 1, before);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(rs.getString(1));
                    }
                }
            }
            return out;
        });
    }

    private static void bind(PreparedStatement ps, AttestationRecord r) throws SQLException {
        ps.setString(1, r.deviceId());
        setLong(ps, 2, r.resetCount());
        setLong(ps, 3, r.restartCount());
        setLong(ps, 4, r.tpmClock());
        ps.setBytes(5, r.imaState());
        ps.setBoolean(6, r.bootVerified());
        ps.setString(7, r.runtimePolicy());
        ps.setString(8, r.bootPolicy());
        ps.setString(9, r.lastVerdict());
        ps.setString(10, Sql.truncate(r.lastReasons(), 8000));
        Sql.setInstant(ps, 11, r.lastAttestedAt());
        Sql.setInstant(ps, 12, r.lastPassedAt());
    }

    private static void setLong(PreparedStatement ps, int i, Long v) throws SQLException {
        if (v == null) {
            ps.setNull(i, Types.BIGINT);
        } else {
            ps.setLong(i, v);
        }
    }

    private static List<String> reasonsOf(AttestationRecord r) {
        return r.lastReasons() == null || r.lastReasons().isEmpty() ? List.of() : List.of(r.lastReasons().split("\n"));
    }
}
