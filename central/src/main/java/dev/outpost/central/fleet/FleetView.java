package dev.outpost.central.fleet;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import dev.outpost.central.store.Database;
import dev.outpost.central.store.Sql;

/** Read side of the fleet: what `outpost-central device|events|site list` show. Blocking (JDBC). */
public final class FleetView {
    public static final int MAX_ROWS = 10_000;

    public record Device(String site, String deviceId, String state, String spiffeId, String ekHash, List<String> reasons,
            String revokeReason, Instant updatedAt, long lastSeq) {
    }

    public record Event(String site, long seq, Instant at, String kind, String data, Instant receivedAt) {
    }

    /** What a site last told central: acknowledgement, contact and its last summary (JSON as sent, or null). */
    public record SiteContact(String site, long ackedThrough, Instant lastContact, String lastSummary, Instant summaryAt) {
    }

    private final Database db;

    public FleetView(Database db) {
        this.db = db;
    }

    /** @param site null for every site; @param state null for every state */
    public List<Device> devices(String site, String state) {
        return db.inTransaction(c -> {
            StringBuilder sql = new StringBuilder("SELECT site, device_id, state, spiffe_id, ek_hash, reasons, revoke_reason, "
                    + "updated_at, last_seq FROM fleet_devices WHERE 1 = 1");
            List<String> args = new ArrayList<>();
            if (site != null) {
                sql.append(" AND site = ?");
                args.add(site);
            }
            if (state != null) {
                sql.append(" AND state = ?");
                args.add(state);
            }
            sql.append(" ORDER BY site, device_id LIMIT ").append(MAX_ROWS);
            try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
                for (int i = 0; i < args.size(); i++) {
                    ps.setString(i + 1, args.get(i));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    List<Device> out = new ArrayList<>();
                    while (rs.next()) {
                        String reasons = rs.getString("reasons");
                        out.add(new Device(rs.getString("site"), rs.getString("device_id"), rs.getString("state"),
                                rs.getString("spiffe_id"), rs.getString("ek_hash"),
                                reasons == null ? List.of() : List.of(reasons.split("\n")), rs.getString("revoke_reason"),
                                Sql.instant(rs, "updated_at"), rs.getLong("last_seq")));
                    }
                    return out;
                }
            }
        });
    }

    /** Events by time at the site; {@code site}, {@code since}, {@code deviceId} null for all. */
    public List<Event> events(String site, Instant since, String deviceId, int limit) {
        return db.inTransaction(c -> {
            StringBuilder sql = new StringBuilder("SELECT site, seq, at, kind, data, received_at FROM site_events WHERE 1 = 1");
            if (site != null) {
                sql.append(" AND site = ?");
            }
            if (since != null) {
                sql.append(" AND at >= ?");
            }
            if (deviceId != null) {
                sql.append(" AND device_id = ?");
            }
            sql.append(" ORDER BY at, site, seq LIMIT ").append(Math.max(0, Math.min(limit, MAX_ROWS)));
            try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
                int i = 1;
                if (site != null) {
                    ps.setString(i++, site);
                }
                if (since != null) {
                    Sql.setInstant(ps, i++, since);
                }
                if (deviceId != null) {
                    ps.setString(i, deviceId);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    List<Event> out = new ArrayList<>();
                    while (rs.next()) {
                        out.add(new Event(rs.getString("site"), rs.getLong("seq"), Sql.instant(rs, "at"), rs.getString("kind"),
                                rs.getString("data"), Sql.instant(rs, "received_at")));
                    }
                    return out;
                }
            }
        });
    }

    public List<SiteContact> contacts() {
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT name, acked_through, last_contact, last_summary, summary_at FROM sites ORDER BY name");
                    ResultSet rs = ps.executeQuery()) {
                List<SiteContact> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(new SiteContact(rs.getString(1), rs.getLong(2), Sql.instant(rs, "last_contact"), rs.getString(4),
                            Sql.instant(rs, "summary_at")));
                }
                return out;
            }
        });
    }

    /** Devices by state across the fleet or one site: from the projection, not from the site's summary. */
    public java.util.Map<String, Long> countsByState(String site) {
        java.util.Map<String, Long> out = new java.util.TreeMap<>();
        for (Device d : devices(site, null)) {
            out.merge(d.state(), 1L, Long::sum);
        }
        return out;
    }
}
