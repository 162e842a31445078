package dev.outpost.appliance.directives;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

import dev.outpost.appliance.store.Database;

/** The highest directive version applied here (table directives_applied, one row). */
public final class AppliedVersion {
    private final Database db;

    public AppliedVersion(Database db) {
        this.db = db;
    }

    /** Blocking. */
    public long get() {
        return db.inTransaction(AppliedVersion::read);
    }

    static long read(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT version FROM directives_applied WHERE id = 1");
                ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                throw new SQLException("directives_applied has no row: the V6 migration did not run");
            }
            return rs.getLong(1);
        }
    }

    /**
     * Moves the applied version from {@code expected} to {@code version} inside the caller's transaction. The row
     * is updated only if it still holds {@code expected}: two appliers (or a retry after a lost answer) cannot both
     * apply one version; the loser's transaction rolls back with its effect.
     */
    static void advance(Connection c, long expected, long version, Instant at) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE directives_applied SET version = ?, applied_at = ? WHERE id = 1 AND version = ?")) {
            ps.setLong(1, version);
            ps.setObject(2, OffsetDateTime.ofInstant(at, ZoneOffset.UTC));
            ps.setLong(3, expected);
            if (ps.executeUpdate() != 1) {
                throw new SQLException("directive " + version + ": the applied version is no longer " + expected
                        + " (applied by someone else meanwhile)");
            }
        }
    }
}
