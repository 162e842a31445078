package dev.outpost.central.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;

/** One-time join tokens and TPM join records (credential activations in flight), both stored hashed. */
public final class JoinStore {
    public record Token(String site, String tokenHash, Instant expiresAt, Instant usedAt) {
    }

    public record TpmJoin(String joinId, String site, String secretHash, String ekHash, String akPublic, Instant expiresAt,
            boolean consumed) {
    }

    /** A new token replaces an unused one: the site add/--token flow may be repeated before the site joins. */
    public void putToken(Connection c, String site, String tokenHash, Instant expiresAt) throws SQLException {
        try (PreparedStatement del = c.prepareStatement("DELETE FROM join_tokens WHERE site = ?")) {
            del.setString(1, site);
            del.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO join_tokens (site, token_hash, expires_at) VALUES (?, ?, ?)")) {
            ps.setString(1, site);
            ps.setString(2, tokenHash);
            Sql.setInstant(ps, 3, expiresAt);
            ps.executeUpdate();
        }
    }

    public Optional<Token> tokenForUpdate(Connection c, String site) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT site, token_hash, expires_at, used_at FROM join_tokens WHERE site = ? FOR UPDATE")) {
            ps.setString(1, site);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new Token(rs.getString("site"), rs.getString("token_hash"), Sql.instant(rs, "expires_at"),
                        Sql.instant(rs, "used_at")));
            }
        }
    }

    public boolean markTokenUsed(Connection c, String site, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE join_tokens SET used_at = ? WHERE site = ? AND used_at IS NULL")) {
            Sql.setInstant(ps, 1, now);
            ps.setString(2, site);
            return ps.executeUpdate() == 1;
        }
    }

    public void putTpmJoin(Connection c, TpmJoin j) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO tpm_joins (join_id, site, secret_hash, ek_hash, ak_public, "
                + "expires_at, consumed) VALUES (?, ?, ?, ?, ?, ?, FALSE)")) {
            ps.setString(1, j.joinId());
            ps.setString(2, j.site());
            ps.setString(3, j.secretHash());
            ps.setString(4, j.ekHash());
            ps.setString(5, j.akPublic());
            Sql.setInstant(ps, 6, j.expiresAt());
            ps.executeUpdate();
        }
    }

    /**
     * Reads the join record and marks it consumed in the same transaction; the returned record says whether it
     * had been consumed before (a replay). The caller commits this before judging the answer, so a wrong or late
     * answer cannot be retried against the same secret.
     */
    public Optional<TpmJoin> consumeTpmJoin(Connection c, String joinId) throws SQLException {
        TpmJoin found;
        try (PreparedStatement ps = c.prepareStatement("SELECT join_id, site, secret_hash, ek_hash, ak_public, expires_at, consumed "
                + "FROM tpm_joins WHERE join_id = ? FOR UPDATE")) {
            ps.setString(1, joinId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                found = new TpmJoin(rs.getString("join_id"), rs.getString("site"), rs.getString("secret_hash"),
                        rs.getString("ek_hash"), rs.getString("ak_public"), Sql.instant(rs, "expires_at"), rs.getBoolean("consumed"));
            }
        }
        if (!found.consumed()) {
            try (PreparedStatement ps = c.prepareStatement("UPDATE tpm_joins SET consumed = TRUE WHERE join_id = ?")) {
                ps.setString(1, joinId);
                ps.executeUpdate();
            }
        }
        return Optional.of(found);
    }

    /** Join records that can no longer be answered are kept only for a day, to tell replays from unknown ids. */
    public int purgeTpmJoins(Connection c, Instant before) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM tpm_joins WHERE expires_at < ?")) {
            Sql.setInstant(ps, 1, before);
            return ps.executeUpdate();
        }
    }
}
