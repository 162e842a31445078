package dev.outpost.appliance.directives;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Optional;

import dev.outpost.appliance.store.Database;

/**
 * The EKs central banned fleet-wide (table central_bans). Enrollment asks on every attempt (a worker, JDBC); the
 * directive applier writes inside its own transaction.
 */
public final class CentralBans {
    private final Database db;

    public CentralBans(Database db) {
        this.db = db;
    }

    /** Why central banned this EK hash (the device id), empty when it did not. Blocking. */
    public Optional<String> reason(String ekHash) {
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT reason, version FROM central_bans WHERE ek_hash = ?")) {
                ps.setString(1, ekHash);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(rs.getString(1) + " (directive " + rs.getLong(2) + ")") : Optional.empty();
                }
            }
        });
    }

    /** False when it was banned already (the first ban's reason stays). */
    boolean ban(Connection c, String ekHash, String reason, long version, Instant at) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM central_bans WHERE ek_hash = ?")) {
            ps.setString(1, ekHash);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return false;
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO central_bans (ek_hash, reason, version, banned_at) VALUES (?, ?, ?, ?)")) {
            ps.setString(1, ekHash);
            ps.setString(2, reason.length() > 1024 ? reason.substring(0, 1024) : reason);
            ps.setLong(3, version);
            ps.setObject(4, OffsetDateTime.ofInstant(at, ZoneOffset.UTC));
            ps.executeUpdate();
        }
        return true;
    }
}
