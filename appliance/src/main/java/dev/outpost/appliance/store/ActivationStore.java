package dev.outpost.appliance.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.Optional;

/** Pending credential activations: one per device, single use. Blocking: call from a worker. */
public final class ActivationStore {
    private static final String COLUMNS =
            "device_id, secret_hash, ek_public, ek_certificate, ak_public, ek_template, created_at, expires_at, attempts";

    private final Database db;

    public ActivationStore(Database db) {
        this.db = db;
    }

    /** Stores {@code a}, replacing any activation still pending for the device (a restarted enrollment). */
    public void put(PendingActivation a) {
        db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "MERGE INTO activations (" + COLUMNS + ") KEY (device_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, a.deviceId());
                ps.setBytes(2, a.secretHash());
                ps.setBytes(3, a.ekPublic());
                ps.setBytes(4, a.ekCertificate());
                ps.setBytes(5, a.akPublic());
                ps.setString(6, a.ekTemplate());
                Sql.setInstant(ps, 7, a.createdAt());
                Sql.setInstant(ps, 8, a.expiresAt());
                ps.setInt(9, a.attempts());
                ps.executeUpdate();
            }
            return null;
        });
    }

    /**
     * Removes and returns the device's pending activation. Single use under concurrency: of two callers, the
     * one whose DELETE removes the row wins; the other (blocked on the row lock until the first commits) deletes
     * nothing and gets empty. Expiry is the caller's check ({@link PendingActivation#expired}), so an expired
     * activation is still consumed.
     */
    public Optional<PendingActivation> take(String deviceId) {
        if (!Sql.isHex64(deviceId)) {
            return Optional.empty();
        }
        return db.inTransaction(c -> {
            PendingActivation found;
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM activations WHERE device_id = ?")) {
                ps.setString(1, deviceId);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    found = new PendingActivation(rs.getString("device_id"), rs.getBytes("secret_hash"),
                            rs.getBytes("ek_public"), rs.getBytes("ek_certificate"), rs.getBytes("ak_public"),
                            rs.getString("ek_template"), Sql.getInstant(rs, "created_at"),
                            Sql.getInstant(rs, "expires_at"), rs.getInt("attempts"));
                }
            }
            // Only the DELETE decides who wins; the SELECT above may have seen a row another caller is taking,
            // and the secret hash must match too, so a put() in between is not handed out as the old one.
            try (PreparedStatement del = c.prepareStatement(
                    "DELETE FROM activations WHERE device_id = ? AND secret_hash = ?")) {
                del.setString(1, deviceId);
                del.setBytes(2, found.secretHash());
                return del.executeUpdate() == 1 ? Optional.of(found) : Optional.<PendingActivation>empty();
            }
        });
    }

    /** Counts a failed answer; returns the new count, or 0 when nothing is pending for the device. */
    public int incrementAttempts(String deviceId) {
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE activations SET attempts = attempts + 1 WHERE device_id = ?")) {
                ps.setString(1, deviceId);
                if (ps.executeUpdate() == 0) {
                    return 0;
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT attempts FROM activations WHERE device_id = ?")) {
                ps.setString(1, deviceId);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getInt(1) : 0;
                }
            }
        });
    }

    /** Deletes activations that expired at or before {@code now}; returns how many. */
    public int purgeExpired(Instant now) {
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM activations WHERE expires_at <= ?")) {
                Sql.setInstant(ps, 1, now);
                return ps.executeUpdate();
            }
        });
    }
}
