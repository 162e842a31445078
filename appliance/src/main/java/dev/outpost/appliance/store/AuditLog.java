package dev.outpost.appliance.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** Append-only audit trail. Blocking: call from a worker. */
public final class AuditLog {
    public static final int MAX_LIMIT = 10_000;
    private static final String COLUMNS = "id, at, device_id, action, decision, reason, detail";

    private final Database db;

    public AuditLog(Database db) {
        this.db = db;
    }

    /** Stores the event; returns its id. Overlong text is cut so that auditing never fails a decision. */
    public long record(AuditEvent e) {
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO audit (at, device_id, action, decision, reason, detail) VALUES (?, ?, ?, ?, ?, ?)",
                    Statement.RETURN_GENERATED_KEYS)) {
                Sql.setInstant(ps, 1, e.at());
                // a malformed id from a hostile peer is kept in the detail, not in the indexed column
                ps.setString(2, Sql.isHex64(e.deviceId()) ? e.deviceId() : null);
                ps.setString(3, Sql.truncate(e.action(), 64));
                ps.setString(4, e.decision().dbValue());
                ps.setString(5, Sql.truncate(e.reason(), 1024));
                String detail = e.detail();
                if (e.deviceId() != null && !Sql.isHex64(e.deviceId())) {
                    detail = "device id as sent: " + Sql.truncate(e.deviceId(), 100) + (detail == null ? "" : "; " + detail);
                }
                ps.setString(6, Sql.truncate(detail, 8192));
                ps.executeUpdate();
                try (ResultSet keys = ps.getGeneratedKeys()) {
                    keys.next();
                    return keys.getLong(1);
                }
            }
        });
    }

    /** Newest first. */
    public List<AuditEvent> recent(int limit) {
        return query("SELECT " + COLUMNS + " FROM audit ORDER BY id DESC LIMIT ?", null, limit);
    }

    /** Newest first. */
    public List<AuditEvent> forDevice(String id, int limit) {
        return query("SELECT " + COLUMNS + " FROM audit WHERE device_id = ? ORDER BY id DESC LIMIT ?", id, limit);
    }

    private List<AuditEvent> query(String sql, String deviceId, int limit) {
        int bounded = Math.max(0, Math.min(limit, MAX_LIMIT));
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int i = 1;
                if (deviceId != null) {
                    ps.setString(i++, deviceId);
                }
                ps.setInt(i, bounded);
                try (ResultSet rs = ps.executeQuery()) {
                    List<AuditEvent> out = new ArrayList<>();
                    while (rs.next()) {
                        out.add(read(rs));
                    }
                    return out;
                }
            }
        });
    }

    private static AuditEvent read(ResultSet rs) throws SQLException {
        return new AuditEvent(rs.getLong("id"), Sql.getInstant(rs, "at"), rs.getString("device_id"),
                rs.getString("action"), AuditEvent.Decision.fromDb(rs.getString("decision")), rs.getString("reason"),
                rs.getString("detail"));
    }
}
