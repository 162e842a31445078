package dev.outpost.central.directives;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import dev.outpost.central.store.Sql;

/**
 * The directives table and the fleet's current policies, labels and bans derived from it. Every method takes the
 * caller's connection: a directive and the fleet state it changes are written in one transaction.
 */
public final class DirectiveStore {
    /** One stored directive; {@code data} is its JSON object as text. */
    public record Directive(long version, String kind, String data, Instant createdAt, String createdBy) {
    }

    public record FleetPolicy(String name, String kind, String sha256, long bytes, long version, Instant updatedAt,
            List<String> labels) {
    }

    /**
     * Appends a directive with the next version. The counter row stays locked until the caller's commit, so a second
     * writer waits and gets the next number only after this one is visible: no site can see a version while a lower
     * one is still to come (V3__directives.sql).
     */
    public long append(Connection c, String kind, String data, Instant at, String by) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE directive_counter SET version = version + 1 WHERE id = 1")) {
            if (ps.executeUpdate() != 1) {
                throw new SQLException("directive_counter has no row: the V3 migration did not run");
            }
        }
        long version;
        try (PreparedStatement ps = c.prepareStatement("SELECT version FROM directive_counter WHERE id = 1");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            version = rs.getLong(1);
        }
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO directives (version, kind, data, created_at, created_by) VALUES (?, ?, ?, ?, ?)")) {
            ps.setLong(1, version);
            ps.setString(2, kind);
            ps.setString(3, data);
            Sql.setInstant(ps, 4, at);
            ps.setString(5, by);
            ps.executeUpdate();
        }
        return version;
    }

    /**
     * Directives after {@code after} in version order: at most {@code max} of them, and no more once their data
     * passed {@code maxChars} (the first is always included, so a large one is never stuck).
     */
    public List<Directive> after(Connection c, long after, int max, int maxChars) throws SQLException {
        List<Directive> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT version, kind, data, created_at, created_by FROM directives "
                + "WHERE version > ? ORDER BY version")) {
            ps.setLong(1, after);
            ps.setMaxRows(max);
            long chars = 0;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String data = rs.getString("data");
                    if (!out.isEmpty() && chars + data.length() > maxChars) {
                        break;
                    }
                    chars += data.length();
                    out.add(new Directive(rs.getLong("version"), rs.getString("kind"), data, Sql.instant(rs, "created_at"),
                            rs.getString("created_by")));
                }
            }
        }
        return out;
    }

    /** The highest version (0 when there is none). */
    public long latest(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT COALESCE(MAX(version), 0) FROM directives");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    public Optional<FleetPolicy> policy(Connection c, String name) throws SQLException {
        return policies(c, name).stream().findFirst();
    }

    public List<FleetPolicy> policies(Connection c) throws SQLException {
        return policies(c, null);
    }

    private List<FleetPolicy> policies(Connection c, String name) throws SQLException {
        List<FleetPolicy> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT name, kind, sha256, bytes, version, updated_at FROM fleet_policies"
                + (name == null ? "" : " WHERE name = ?") + " ORDER BY name")) {
            if (name != null) {
                ps.setString(1, name);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new FleetPolicy(rs.getString("name"), rs.getString("kind"), rs.getString("sha256"),
                            rs.getLong("bytes"), rs.getLong("version"), Sql.instant(rs, "updated_at"), new ArrayList<>()));
                }
            }
        }
        for (FleetPolicy p : out) {
            try (PreparedStatement ps = c.prepareStatement("SELECT label FROM fleet_policy_labels WHERE name = ? ORDER BY label")) {
                ps.setString(1, p.name());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        p.labels().add(rs.getString(1));
                    }
                }
            }
        }
        return out;
    }

    public void putPolicy(Connection c, String name, String kind, String sha256, long bytes, long version, Instant at)
            throws SQLException {
        // Replacing a policy of another kind drops its labels: a site stores it anew and assignments are per kind.
        Optional<FleetPolicy> before = policy(c, name);
        if (before.isPresent() && !before.get().kind().equals(kind)) {
            deleteLabels(c, name);
        }
        try (PreparedStatement ps = c.prepareStatement(before.isPresent()
                ? "UPDATE fleet_policies SET kind = ?, sha256 = ?, bytes = ?, version = ?, updated_at = ? WHERE name = ?"
                : "INSERT INTO fleet_policies (kind, sha256, bytes, version, updated_at, name) VALUES (?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, kind);
            ps.setString(2, sha256);
            ps.setLong(3, bytes);
            ps.setLong(4, version);
            Sql.setInstant(ps, 5, at);
            ps.setString(6, name);
            ps.executeUpdate();
        }
    }

    /** False when the label already had it. */
    public boolean assign(Connection c, String name, String label, long version) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM fleet_policy_labels WHERE name = ? AND label = ?")) {
            ps.setString(1, name);
            ps.setString(2, label);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return false;
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO fleet_policy_labels (name, label, version) VALUES (?, ?, ?)")) {
            ps.setString(1, name);
            ps.setString(2, label);
            ps.setLong(3, version);
            ps.executeUpdate();
        }
        return true;
    }

    public boolean deletePolicy(Connection c, String name) throws SQLException {
        deleteLabels(c, name);
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM fleet_policies WHERE name = ?")) {
            ps.setString(1, name);
            return ps.executeUpdate() == 1;
        }
    }

    private static void deleteLabels(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM fleet_policy_labels WHERE name = ?")) {
            ps.setString(1, name);
            ps.executeUpdate();
        }
    }

    /** False when the EK was banned already (the first reason stands). */
    public boolean ban(Connection c, String ekHash, String reason, long version, Instant at) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM fleet_bans WHERE ek_hash = ?")) {
            ps.setString(1, ekHash);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return false;
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO fleet_bans (ek_hash, reason, version, banned_at) VALUES (?, ?, ?, ?)")) {
            ps.setString(1, ekHash);
            ps.setString(2, reason);
            ps.setLong(3, version);
            Sql.setInstant(ps, 4, at);
            ps.executeUpdate();
        }
        return true;
    }
}
