package dev.outpost.central.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** The audit trail: issuances and decisions about registered sites. */
public final class AuditStore {
    public record Entry(long id, Instant at, String site, String action, String decision, String detail) {
    }

    public void record(Connection c, Instant at, String site, String action, boolean allow, String detail) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO audit (at, site, action, decision, detail) VALUES (?, ?, ?, ?, ?)")) {
            Sql.setInstant(ps, 1, at);
            ps.setString(2, site);
            ps.setString(3, action);
            ps.setString(4, allow ? "allow" : "deny");
            ps.setString(5, detail.length() > 1000 ? detail.substring(0, 1000) : detail);
            ps.executeUpdate();
        }
    }

    /** Newest first; {@code site} null for every site. */
    public List<Entry> recent(Connection c, String site, int limit) throws SQLException {
        String sql = "SELECT id, at, site, action, decision, detail FROM audit" + (site == null ? "" : " WHERE site = ?")
                + " ORDER BY id DESC";
        List<Entry> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setMaxRows(limit);
            if (site != null) {
                ps.setString(1, site);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Entry(rs.getLong("id"), Sql.instant(rs, "at"), rs.getString("site"), rs.getString("action"),
                            rs.getString("decision"), rs.getString("detail")));
                }
            }
        }
        return out;
    }
}
