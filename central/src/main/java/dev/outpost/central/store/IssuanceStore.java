package dev.outpost.central.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** What central signed: site CAs (which go into the bundle) and site credentials (which authenticate a site). */
public final class IssuanceStore {
    public record SiteCaRow(String serial, String site, String certificatePem, Instant notAfter, Instant issuedAt) {
    }

    public void recordSiteCa(Connection c, String serial, String site, String pem, Instant notAfter, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO site_cas (serial, site, certificate, not_after, issued_at) VALUES (?, ?, ?, ?, ?)")) {
            ps.setString(1, serial);
            ps.setString(2, site);
            ps.setString(3, pem);
            Sql.setInstant(ps, 4, notAfter);
            Sql.setInstant(ps, 5, now);
            ps.executeUpdate();
        }
    }

    public void recordCredential(Connection c, String serial, String site, Instant notAfter, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO site_credentials (serial, site, not_after, issued_at) VALUES (?, ?, ?, ?)")) {
            ps.setString(1, serial);
            ps.setString(2, site);
            Sql.setInstant(ps, 3, notAfter);
            Sql.setInstant(ps, 4, now);
            ps.executeUpdate();
        }
    }

    /** True when central issued the credential with this serial to this site. */
    public boolean credentialOf(Connection c, String serial, String site) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM site_credentials WHERE serial = ? AND site = ?")) {
            ps.setString(1, serial);
            ps.setString(2, site);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /**
     * Site CAs that belong in the bundle: not retired (expired, see {@link #retireExpired}), of a site that is not
     * revoked (a pending site has CAs only through the file flow). Deliberately not filtered by the clock: the bundle changes only in transactions that move the sequence.
     */
    public List<SiteCaRow> bundleSiteCas(Connection c) throws SQLException {
        return query(c, "SELECT s.serial, s.site, s.certificate, s.not_after, s.issued_at FROM site_cas s JOIN sites t ON t.name = s.site "
                + "WHERE t.state <> 'revoked' AND s.retired = FALSE ORDER BY s.issued_at, s.serial", null, null);
    }

    /** Marks expired site CAs retired; returns how many (the caller moves the sequence in the same transaction). */
    public int retireExpired(Connection c, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE site_cas SET retired = TRUE WHERE retired = FALSE AND not_after <= ?")) {
            Sql.setInstant(ps, 1, now);
            return ps.executeUpdate();
        }
    }

    public List<SiteCaRow> siteCas(Connection c, String site) throws SQLException {
        return query(c, "SELECT serial, site, certificate, not_after, issued_at FROM site_cas WHERE site = ? ORDER BY issued_at, serial",
                null, site);
    }

    private static List<SiteCaRow> query(Connection c, String sql, Instant now, String site) throws SQLException {
        List<SiteCaRow> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            if (now != null) {
                Sql.setInstant(ps, 1, now);
            } else if (site != null) {
                ps.setString(1, site);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new SiteCaRow(rs.getString("serial"), rs.getString("site"), rs.getString("certificate"),
                            Sql.instant(rs, "not_after"), Sql.instant(rs, "issued_at")));
                }
            }
        }
        return out;
    }
}
