package dev.outpost.central.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Foreign trust domains central federates with, and the last bundle fetched from each. */
public final class FederationStore {
    public record Relation(String trustDomain, String endpointUrl, String profile, String endpointSpiffeId, String bundle,
            Long sequence, Long refreshHint, Instant lastPolled, String lastError) {
    }

    private static final String COLUMNS = "trust_domain, endpoint_url, profile, endpoint_spiffe_id, bundle, sequence, refresh_hint, "
            + "last_polled, last_error";

    public boolean add(Connection c, String td, String url, String profile, String spiffeId, String bundle) throws SQLException {
        if (find(c, td).isPresent()) {
            return false;
        }
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO federation (trust_domain, endpoint_url, profile, endpoint_spiffe_id, bundle) VALUES (?, ?, ?, ?, ?)")) {
            ps.setString(1, td);
            ps.setString(2, url);
            ps.setString(3, profile);
            ps.setString(4, spiffeId);
            ps.setString(5, bundle);
            ps.executeUpdate();
        }
        return true;
    }

    public boolean remove(Connection c, String td) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM federation WHERE trust_domain = ?")) {
            ps.setString(1, td);
            return ps.executeUpdate() == 1;
        }
    }

    public Optional<Relation> find(Connection c, String td) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM federation WHERE trust_domain = ?")) {
            ps.setString(1, td);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
        }
    }

    public List<Relation> list(Connection c) throws SQLException {
        List<Relation> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM federation ORDER BY trust_domain");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(row(rs));
            }
        }
        return out;
    }

    /** A successful poll: the new bundle replaces the old one only when its content is new. Returns true if it changed. */
    public boolean stored(Connection c, String td, String bundle, Long sequence, Long refreshHint, Instant now) throws SQLException {
        Optional<Relation> before = find(c, td);
        boolean changed = before.isPresent() && !bundle.equals(before.get().bundle());
        try (PreparedStatement ps = c.prepareStatement("UPDATE federation SET bundle = ?, sequence = ?, refresh_hint = ?, "
                + "last_polled = ?, last_error = NULL WHERE trust_domain = ?")) {
            ps.setString(1, bundle);
            setLong(ps, 2, sequence);
            setLong(ps, 3, refreshHint);
            Sql.setInstant(ps, 4, now);
            ps.setString(5, td);
            ps.executeUpdate();
        }
        return changed;
    }

    /** A failed poll: the last good bundle stays; the error is kept for `federation list`. */
    public void failed(Connection c, String td, String error, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE federation SET last_polled = ?, last_error = ? WHERE trust_domain = ?")) {
            Sql.setInstant(ps, 1, now);
            ps.setString(2, error.length() > 1000 ? error.substring(0, 1000) : error);
            ps.setString(3, td);
            ps.executeUpdate();
        }
    }

    private static void setLong(PreparedStatement ps, int i, Long v) throws SQLException {
        if (v == null) {
            ps.setNull(i, Types.BIGINT);
        } else {
            ps.setLong(i, v);
        }
    }

    private static Relation row(ResultSet rs) throws SQLException {
        long seq = rs.getLong("sequence");
        Long sequence = rs.wasNull() ? null : seq;
        long hint = rs.getLong("refresh_hint");
        Long refresh = rs.wasNull() ? null : hint;
        return new Relation(rs.getString("trust_domain"), rs.getString("endpoint_url"), rs.getString("profile"),
                rs.getString("endpoint_spiffe_id"), rs.getString("bundle"), sequence, refresh, Sql.instant(rs, "last_polled"),
                rs.getString("last_error"));
    }
}
