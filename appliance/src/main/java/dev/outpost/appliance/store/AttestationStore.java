package dev.outpost.appliance.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Attestation state per device; a verdict and the device's new state are written in one transaction. */
public final class AttestationStore {
    private final Database db;

    public AttestationStore(Database db) {
        this.db = db;
    }

    public AttestationRecord get(String deviceId) {
        return db.inTransaction(c -> find(c, deviceId)).orElse(AttestationRecord.fresh(deviceId));
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
     * Stores the outcome of an attestation and moves the device to {@code state}, unless it was revoked in the
     * meantime (an operator's decision outranks a verdict). Returns false when the device is gone or revoked.
     */
    public boolean recordVerdict(AttestationRecord r, DeviceState state, Instant at) {
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE devices SET state = ?, updated_at = ? WHERE device_id = ? AND state <> 'revoked'")) {
                ps.setString(1, state.dbValue());
                Sql.setInstant(ps, 2, at);
                ps.setString(3, r.deviceId());
                if (ps.executeUpdate() != 1) {
                    return false;
                }
            }
            try (PreparedStatement ps = c.prepareStatement("MERGE INTO attestations (device_id, reset_count, "
                    + "restart_count, tpm_clock, ima_state, boot_verified, runtime_policy, boot_policy, last_verdict, "
                    + "last_reasons, last_attested_at, last_passed_at) KEY (device_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
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
                ps.executeUpdate();
            }
            return true;
        });
    }

    /** Forgets what was verified (operator's clear, or a reboot): the next attestation starts from entry 0. */
    public void reset(String deviceId) {
        db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM attestations WHERE device_id = ?")) {
                ps.setString(1, deviceId);
                ps.executeUpdate();
            }
            return null;
        });
    }

    /** Trusted devices whose last pass is older than {@code before}: they have gone stale. */
    public List<String> trustedNotPassedSince(Instant before) {
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

    private static void setLong(PreparedStatement ps, int i, Long v) throws SQLException {
        if (v == null) {
            ps.setNull(i, Types.BIGINT);
        } else {
            ps.setLong(i, v);
        }
    }
}
