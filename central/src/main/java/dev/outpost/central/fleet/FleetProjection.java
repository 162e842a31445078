package dev.outpost.central.fleet;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.central.events.EventBatch;
import dev.outpost.central.store.Sql;

/**
 * Keeps {@code fleet_devices} (each device's latest standing) and the site's last summary in step with the events,
 * inside the ingest's transaction. Events come in the site's order, so the last one applied wins. A malformed
 * {@code data} of a known kind is stored as an event but not projected: the fleet view never shows a guess.
 */
public final class FleetProjection {
    private static final ObjectMapper JSON = new ObjectMapper();

    public void apply(Connection c, String site, EventBatch.Event e) throws SQLException {
        JsonNode d;
        try {
            d = JSON.readTree(e.data());
        } catch (java.io.IOException x) {
            return;
        }
        String device = d.path("deviceId").asText(null);
        switch (e.kind()) {
            case "device.enrolled" -> {
                if (device != null) {
                    upsert(c, site, device, "enrolled", d.path("spiffeId").asText(null), d.path("ekHash").asText(null), null, e);
                }
            }
            case "device.state" -> {
                String state = d.path("state").asText(null);
                if (device != null && state != null) {
                    upsert(c, site, device, state, null, null, reasons(d.path("reasons")), e);
                }
            }
            case "device.revoked" -> {
                // The device lost its identity; its state (failed, stale, revoked) comes with its own device.state.
                if (device != null) {
                    try (PreparedStatement ps = c.prepareStatement("UPDATE fleet_devices SET revoke_reason = ?, updated_at = ?, "
                            + "last_seq = ? WHERE site = ? AND device_id = ?")) {
                        ps.setString(1, clip(d.path("reason").asText(""), 1024));
                        Sql.setInstant(ps, 2, e.at());
                        ps.setLong(3, e.seq());
                        ps.setString(4, site);
                        ps.setString(5, device);
                        ps.executeUpdate();
                    }
                }
            }
            case "site.summary" -> {
                try (PreparedStatement ps = c.prepareStatement("UPDATE sites SET last_summary = ?, summary_at = ? WHERE name = ?")) {
                    ps.setString(1, e.data());
                    Sql.setInstant(ps, 2, e.at());
                    ps.setString(3, site);
                    ps.executeUpdate();
                }
            }
            default -> {
                // stored in site_events, nothing to project
            }
        }
    }

    // UPDATE, then INSERT when there was no row: portable between H2 and PostgreSQL, and race-free because the
    // ingest holds the site's row lock (one writer per site at a time).
    private static void upsert(Connection c, String site, String device, String state, String spiffeId, String ekHash,
            String reasons, EventBatch.Event e) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE fleet_devices SET state = ?, spiffe_id = COALESCE(?, spiffe_id), "
                + "ek_hash = COALESCE(?, ek_hash), reasons = ?, updated_at = ?, last_seq = ? WHERE site = ? AND device_id = ?")) {
            ps.setString(1, clip(state, 16));
            ps.setString(2, clip(spiffeId, 2048));
            ps.setString(3, clip(ekHash, 64));
            ps.setString(4, reasons);
            Sql.setInstant(ps, 5, e.at());
            ps.setLong(6, e.seq());
            ps.setString(7, site);
            ps.setString(8, clip(device, 64));
            if (ps.executeUpdate() == 1) {
                return;
            }
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO fleet_devices (site, device_id, state, spiffe_id, ek_hash, "
                + "reasons, updated_at, last_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, site);
            ps.setString(2, clip(device, 64));
            ps.setString(3, clip(state, 16));
            ps.setString(4, clip(spiffeId, 2048));
            ps.setString(5, clip(ekHash, 64));
            ps.setString(6, reasons);
            Sql.setInstant(ps, 7, e.at());
            ps.setLong(8, e.seq());
            ps.executeUpdate();
        }
    }

    private static String reasons(JsonNode list) {
        if (!list.isArray() || list.isEmpty()) {
            return null;
        }
        StringBuilder sb = new StringBuilder();
        list.forEach(r -> sb.append(sb.length() == 0 ? "" : "\n").append(r.asText()));
        return clip(sb.toString(), 8192);
    }

    private static String clip(String s, int max) {
        return s == null || s.length() <= max ? s : s.substring(0, max);
    }
}
