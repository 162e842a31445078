package dev.outpost.central.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The site registry. Every method runs on the caller's connection, inside the caller's transaction. */
public final class SiteStore {
    private static final String COLUMNS = "name, state, joined_by, ek_hash, created_at, joined_at, revoked_at, reason";

    public boolean insert(Connection c, String name, String joinedBy, String ekHash, Instant now) throws SQLException {
        if (find(c, name, false).isPresent()) {
            return false;
        }
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO sites (name, state, joined_by, ek_hash, created_at) VALUES (?, 'pending', ?, ?, ?)")) {
            ps.setString(1, name);
            ps.setString(2, joinedBy);
            ps.setString(3, ekHash);
            Sql.setInstant(ps, 4, now);
            ps.executeUpdate();
        }
        return true;
    }

    /** With {@code forUpdate} the row stays locked to the end of the transaction (concurrent joins serialise). */
    public Optional<SiteRecord> find(Connection c, String name, boolean forUpdate) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM sites WHERE name = ?"
                + (forUpdate ? " FOR UPDATE" : ""))) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
        }
    }

    public List<SiteRecord> list(Connection c) throws SQLException {
        List<SiteRecord> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM sites ORDER BY name");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(row(rs));
            }
        }
        return out;
    }

    /** pending → active; false when the site is not pending (already joined, or revoked). */
    public boolean activate(Connection c, String name, String ekHash, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE sites SET state = 'active', joined_at = ?, ek_hash = COALESCE(?, ek_hash) WHERE name = ? AND state = 'pending'")) {
            Sql.setInstant(ps, 1, now);
            ps.setString(2, ekHash);
            ps.setString(3, name);
            return ps.executeUpdate() == 1;
        }
    }

    /** Records the key the site's first credential was issued for (V5): a repeated join is answered only for it. */
    public void setJoinKey(Connection c, String name, String keySha256) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE sites SET join_key_sha256 = ? WHERE name = ?")) {
            ps.setString(1, keySha256);
            ps.setString(2, name);
            ps.executeUpdate();
        }
    }

    /** The AK (TPM2B_PUBLIC) whose credential activation finished the site's TPM join (V5); the latest one. */
    public void setJoinAk(Connection c, String name, byte[] akPublic) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE sites SET ak_public = ? WHERE name = ?")) {
            ps.setString(1, java.util.Base64.getEncoder().encodeToString(akPublic));
            ps.setString(2, name);
            ps.executeUpdate();
        }
    }

    public Optional<byte[]> joinAk(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT ak_public FROM sites WHERE name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getString(1) != null
                        ? Optional.of(java.util.Base64.getDecoder().decode(rs.getString(1))) : Optional.empty();
            }
        }
    }

    public Optional<String> joinKey(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT join_key_sha256 FROM sites WHERE name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.ofNullable(rs.getString(1)) : Optional.empty();
            }
        }
    }

    /** Final: a revoked site never comes back under the same name's credential. */
    public boolean revoke(Connection c, String name, String reason, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE sites SET state = 'revoked', revoked_at = ?, reason = ? WHERE name = ? AND state <> 'revoked'")) {
            Sql.setInstant(ps, 1, now);
            ps.setString(2, reason);
            ps.setString(3, name);
            return ps.executeUpdate() == 1;
        }
    }

    private static SiteRecord row(ResultSet rs) throws SQLException {
        return new SiteRecord(rs.getString("name"), rs.getString("state"), rs.getString("joined_by"), rs.getString("ek_hash"),
                Sql.instant(rs, "created_at"), Sql.instant(rs, "joined_at"), Sql.instant(rs, "revoked_at"), rs.getString("reason"));
    }
}
