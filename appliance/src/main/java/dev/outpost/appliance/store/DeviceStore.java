package dev.outpost.appliance.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.outpost.appliance.ca.IssuedSvid;

/** The {@code devices} table and the {@code svids} issued to them. Blocking: call from a worker. */
public final class DeviceStore {
    /** Selectors that say what kind of key the device's SVID certifies; one per device, replaced on every issue. */
    public static final String NODE_KEY_SELECTOR_PREFIX = "outpost:node-key:";
    private static final String COLUMNS = "device_id, state, ek_public, ek_certificate, ek_template, ak_public, spiffe_id, "
            + "enrolled_at, updated_at, revoked_at, revoke_reason, svid_serial, svid_not_after, selectors";

    private final Database db;
    private final Clock clock;

    public DeviceStore(Database db) {
        this(db, Clock.systemUTC());
    }

    public DeviceStore(Database db, Clock clock) {
        this.db = db;
        this.clock = clock;
    }

    public Optional<DeviceRecord> find(String id) {
        if (!Sql.isHex64(id)) {
            return Optional.empty();
        }
        return db.deviceRows().get(id, () -> db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM devices WHERE device_id = ?")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(read(rs)) : Optional.empty();
                }
            }
        }));
    }

    /** The device's row if it is in memory (as last committed), without going to the database; else empty. */
    public Optional<DeviceRecord> cached(String id) {
        return Optional.ofNullable(db.deviceRows().get(id));
    }

    public List<DeviceRecord> list() {
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM devices ORDER BY device_id");
                 ResultSet rs = ps.executeQuery()) {
                List<DeviceRecord> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(read(rs));
                }
                return out;
            }
        });
    }

    /** Every device id, and nothing else of the rows (the known-ids mirror reloads these every 30 s). */
    public List<String> ids() {
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT device_id FROM devices");
                 ResultSet rs = ps.executeQuery()) {
                List<String> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
                return out;
            }
        });
    }

    /**
     * Inserts the device or replaces every column of an existing row (re-enrollment), unless the existing row is
     * failed or revoked: re-enrolling must not wash away a verdict only an operator may lift. Returns false then.
     */
    public boolean upsertEnrolled(DeviceRecord d) {
        return db.inTransaction(c -> upsertEnrolled(c, d));
    }

    /**
     * An activation's one write: the device enrolled ({@link #upsertEnrolled}), its first SVID ({@link #recordSvid})
     * and the audit rows that say so, in one transaction and so one durable write instead of four. False, with
     * nothing written, when the device is failed or revoked.
     */
    public boolean enroll(DeviceRecord d, SvidIssue svid, AuditLog audit, List<AuditEvent> events) {
        return db.inTransaction(c -> {
            if (!upsertEnrolled(c, d)) {
                c.rollback();
                return false;
            }
            recordSvid(c, svid);
            for (AuditEvent e : events) {
                audit.record(c, e);
            }
            return true;
        });
    }

    private boolean upsertEnrolled(Connection c, DeviceRecord d) throws SQLException {
        DeviceState previous = lockedState(c, d.deviceId());
        if (previous != null && previous.heldByOperator()) {
            return false;
        }
        try (PreparedStatement ps = c.prepareStatement("MERGE INTO devices (" + COLUMNS + ") KEY (device_id) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, d.deviceId());
            ps.setString(2, d.state().dbValue());
            ps.setBytes(3, d.ekPublic());
            ps.setBytes(4, d.ekCertificate());
            ps.setString(5, d.ekTemplate());
            ps.setBytes(6, d.akPublic());
            ps.setString(7, d.spiffeId());
            Sql.setInstant(ps, 8, d.enrolledAt());
            Sql.setInstant(ps, 9, d.updatedAt());
            Sql.setInstant(ps, 10, d.revokedAt());
            ps.setString(11, d.revokeReason());
            ps.setString(12, d.svidSerial());
            Sql.setInstant(ps, 13, d.svidNotAfter());
            ps.setString(14, d.selectors().isEmpty() ? null : String.join("\n", d.selectors()));
            ps.executeUpdate();
        }
        // The device id is the SHA-256 of the EK's DER public key: the EK hash central bans by.
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("deviceId", d.deviceId());
        data.put("spiffeId", d.spiffeId());
        data.put("ekHash", d.deviceId());
        data.put("via", "credential-activation");
        db.outbox().append(c, "device.enrolled", d.updatedAt() != null ? d.updatedAt() : clock.instant(), null, data);
        return true;
    }

    /** Marks the device revoked; false when there is no such device or it already was. */
    public boolean revoke(String id, String reason, Instant at) {
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("a revocation needs a reason");
        }
        return db.inTransaction(c -> revoke(c, id, reason, at));
    }

    /** {@link #revoke(String, String, Instant)} with the audit record that says who and why, in one transaction. */
    public boolean revoke(String id, String reason, Instant at, AuditLog audit, AuditEvent event) {
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("a revocation needs a reason");
        }
        return db.inTransaction(c -> {
            if (!revoke(c, id, reason, at)) {
                return false;
            }
            audit.record(c, event);
            return true;
        });
    }

    /**
     * {@link #revoke(String, String, Instant)} inside the caller's transaction (a directive and its version); the
     * outbox row for central is written in it too.
     */
    public boolean revoke(java.sql.Connection c, String id, String reason, Instant at) throws SQLException {
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("a revocation needs a reason");
        }
        DeviceState previous = lockedState(c, id);
        try (PreparedStatement ps = c.prepareStatement("UPDATE devices SET state = 'revoked', revoked_at = ?, "
                + "revoke_reason = ?, updated_at = ? WHERE device_id = ? AND state <> 'revoked'")) {
            Sql.setInstant(ps, 1, at);
            ps.setString(2, Sql.truncate(reason, 1024));
            Sql.setInstant(ps, 3, at);
            ps.setString(4, id);
            if (ps.executeUpdate() != 1) {
                return false;
            }
        }
        stateChanged(db, c, id, DeviceState.REVOKED, previous, List.of(Sql.truncate(reason, 1024)), at);
        return true;
    }

    /**
     * Sets the state (attestation verdicts, staleness); false when there is no such device, or it is revoked, or it
     * failed and {@code state} is not a failure: only {@link #clear} takes a device out of failed.
     */
    public boolean setState(String id, DeviceState state, Instant at) {
        return setState(id, state, at, List.of());
    }

    /** As {@link #setState(String, DeviceState, Instant)}, with the reasons central is told of the transition. */
    public boolean setState(String id, DeviceState state, Instant at, List<String> reasons) {
        return setState(id, state, at, reasons, null, null);
    }

    /**
     * As {@link #setState(String, DeviceState, Instant, List)}, with the audit record of the change in the same
     * transaction (written only when the state changed): no change is seen, nor kept after a crash, without it.
     */
    public boolean setState(String id, DeviceState state, Instant at, List<String> reasons, AuditLog audit,
            AuditEvent event) {
        if (state == DeviceState.REVOKED) {
            throw new IllegalArgumentException("use revoke(), which records why");
        }
        return db.inTransaction(c -> {
            DeviceState previous = lockedState(c, id);
            try (PreparedStatement ps = c.prepareStatement("UPDATE devices SET state = ?, updated_at = ? WHERE device_id = ? "
                    + "AND state <> 'revoked' AND (state <> 'failed' OR ? = 'failed')")) {
                ps.setString(1, state.dbValue());
                Sql.setInstant(ps, 2, at);
                ps.setString(3, id);
                ps.setString(4, state.dbValue());
                if (ps.executeUpdate() != 1) {
                    return false;
                }
            }
            stateChanged(db, c, id, state, previous, reasons, at);
            if (audit != null) {
                audit.record(c, event);
            }
            return true;
        });
    }

    /**
     * The operator reviewed the device: whatever it failed, it is pending again and must pass a full attestation.
     * False when there is no such device or it is revoked (a revocation is not lifted by clearing).
     */
    public boolean clear(String id, Instant at) {
        return clear(id, at, null, null);
    }

    /** As {@link #clear(String, Instant)}, with the operator's audit record in the same transaction. */
    public boolean clear(String id, Instant at, AuditLog audit, AuditEvent event) {
        return db.inTransaction(c -> clear(c, id, at, audit, event));
    }

    /**
     * As {@link #clear(String, Instant, AuditLog, AuditEvent)}, in the caller's transaction: the operator's clear
     * also forgets what the device was verified against ({@link AttestationStore#reset(String, SqlWork)}), and a
     * crash between the two must not leave a cleared device that resumes from its old IMA state.
     */
    public boolean clear(Connection c, String id, Instant at, AuditLog audit, AuditEvent event) throws SQLException {
        DeviceState previous = lockedState(c, id);
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE devices SET state = 'pending', updated_at = ? WHERE device_id = ? AND state <> 'revoked'")) {
            Sql.setInstant(ps, 1, at);
            ps.setString(2, id);
            if (ps.executeUpdate() != 1) {
                return false;
            }
        }
        stateChanged(db, c, id, DeviceState.PENDING, previous, List.of("cleared by operator"), at);
        if (audit != null) {
            audit.record(c, event);
        }
        return true;
    }

    /** The device's state, its row locked to the end of the transaction; null when there is no such device. */
    static DeviceState lockedState(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT state FROM devices WHERE device_id = ? FOR UPDATE")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? DeviceState.fromDb(rs.getString(1)) : null;
            }
        }
    }

    /**
     * A {@code device.state} event for central, in the transaction that made the change; nothing when the state did
     * not move (routine passes are not news). Coalescible by device: at the outbox's bound the latest state wins.
     */
    static void stateChanged(Database db, Connection c, String id, DeviceState state, DeviceState previous, List<String> reasons,
            Instant at) throws SQLException {
        if (state == previous) {
            return;
        }
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("deviceId", id);
        data.put("state", state.dbValue());
        data.put("previous", previous == null ? null : previous.dbValue());
        data.put("reasons", reasons.stream().map(r -> Sql.truncate(r, 1024)).limit(32).toList());
        db.outbox().append(c, OutboxStore.DEVICE_STATE, at, id, data);
    }

    public void recordSvid(String deviceId, IssuedSvid svid) {
        recordSvid(deviceId, svid.serialHex(), svid.spiffeId().toString(), svid.notBefore(), svid.notAfter());
    }

    /**
     * Records an issued SVID: the device's current serial and the history row, in one transaction so the two
     * never disagree. Fails (and writes nothing) when the device does not exist or is revoked.
     */
    public void recordSvid(String deviceId, String serialHex, String spiffeId, Instant notBefore, Instant notAfter) {
        recordSvid(deviceId, serialHex, spiffeId, notBefore, notAfter, null, null);
    }

    /**
     * Records an issued SVID and what its key is: {@code nodeKeySelector} (outpost:node-key:tpm or :software) replaces
     * the device's node-key selector, and {@code nodeKeyName} (the TPM Name of a certified key, or null) is the binding
     * kept with the device and the SVID. A null selector leaves the selectors as they are.
     */
    public void recordSvid(String deviceId, String serialHex, String spiffeId, Instant notBefore, Instant notAfter,
            String nodeKeySelector, byte[] nodeKeyName) {
        SvidIssue svid = new SvidIssue(deviceId, serialHex, spiffeId, notBefore, notAfter, nodeKeySelector, nodeKeyName);
        db.inTransaction(c -> {
            recordSvid(c, svid);
            return null;
        });
    }

    /** {@link #recordSvid} and the audit row that says so, in one transaction (one durable write, not two). */
    public void recordSvid(SvidIssue svid, AuditLog audit, AuditEvent event) {
        db.inTransaction(c -> {
            recordSvid(c, svid);
            audit.record(c, event);
            return null;
        });
    }

    /** What a new SVID is, for the device's row and the svids history; see {@link #recordSvid}. */
    public record SvidIssue(String deviceId, String serialHex, String spiffeId, Instant notBefore, Instant notAfter,
            String nodeKeySelector, byte[] nodeKeyName) {
        public static SvidIssue of(String deviceId, IssuedSvid svid, String nodeKeySelector, byte[] nodeKeyName) {
            return new SvidIssue(deviceId, svid.serialHex(), svid.spiffeId().toString(), svid.notBefore(),
                    svid.notAfter(), nodeKeySelector, nodeKeyName);
        }
    }

    private void recordSvid(Connection c, SvidIssue svid) throws SQLException {
        String deviceId = svid.deviceId();
        Instant now = clock.instant();
        if (svid.nodeKeySelector() != null) {
            String selectors = null;
            try (PreparedStatement ps = c.prepareStatement("SELECT selectors FROM devices WHERE device_id = ?")) {
                ps.setString(1, deviceId);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        selectors = rs.getString(1);
                    }
                }
            }
            List<String> kept = new ArrayList<>();
            if (selectors != null) {
                for (String sel : selectors.split("\n")) {
                    if (!sel.startsWith(NODE_KEY_SELECTOR_PREFIX)) {
                        kept.add(sel);
                    }
                }
            }
            kept.add(svid.nodeKeySelector());
            try (PreparedStatement ps = c.prepareStatement("UPDATE devices SET selectors = ?, node_key_name = ? "
                    + "WHERE device_id = ?")) {
                ps.setString(1, String.join("\n", kept));
                ps.setBytes(2, svid.nodeKeyName());
                ps.setString(3, deviceId);
                ps.executeUpdate();
            }
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE devices SET svid_serial = ?, svid_not_after = ?, "
                + "updated_at = ? WHERE device_id = ? AND state <> 'revoked'")) {
            ps.setString(1, svid.serialHex());
            Sql.setInstant(ps, 2, svid.notAfter());
            Sql.setInstant(ps, 3, now);
            ps.setString(4, deviceId);
            if (ps.executeUpdate() != 1) {
                throw new StoreException("no enrolled, unrevoked device " + deviceId + " to record an SVID for");
            }
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO svids (serial, device_id, spiffe_id, not_before, "
                + "not_after, issued_at, node_key_name) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, svid.serialHex());
            ps.setString(2, deviceId);
            ps.setString(3, svid.spiffeId());
            Sql.setInstant(ps, 4, svid.notBefore());
            Sql.setInstant(ps, 5, svid.notAfter());
            Sql.setInstant(ps, 6, now);
            ps.setBytes(7, svid.nodeKeyName());
            ps.executeUpdate();
        }
    }

    /** Serials issued to a device, newest first. */
    public List<String> svidSerials(String deviceId, int limit) {
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT serial FROM svids WHERE device_id = ? ORDER BY issued_at DESC, serial LIMIT ?")) {
                ps.setString(1, deviceId);
                ps.setInt(2, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    List<String> out = new ArrayList<>();
                    while (rs.next()) {
                        out.add(rs.getString(1));
                    }
                    return out;
                }
            }
        });
    }

    private static DeviceRecord read(ResultSet rs) throws SQLException {
        String selectors = rs.getString("selectors");
        return new DeviceRecord(
                rs.getString("device_id"),
                DeviceState.fromDb(rs.getString("state")),
                rs.getBytes("ek_public"),
                rs.getBytes("ek_certificate"),
                rs.getString("ek_template"),
                rs.getBytes("ak_public"),
                rs.getString("spiffe_id"),
                Sql.getInstant(rs, "enrolled_at"),
                Sql.getInstant(rs, "updated_at"),
                Sql.getInstant(rs, "revoked_at"),
                rs.getString("revoke_reason"),
                rs.getString("svid_serial"),
                Sql.getInstant(rs, "svid_not_after"),
                selectors == null ? List.of() : Arrays.asList(selectors.split("\n")));
    }
}
