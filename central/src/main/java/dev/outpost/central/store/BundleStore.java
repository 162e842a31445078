package dev.outpost.central.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;

/**
 * The bundle's sequence and central's CA chain as recorded for every instance. The sequence moves with
 * {@code UPDATE ... SET sequence = sequence + 1} in the transaction of the change, so concurrent instances never
 * hand out the same number for different contents.
 */
public final class BundleStore {
    public record CaRecord(String chainPem, String rootsPem, Instant updatedAt) {
    }

    public long sequence(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT sequence FROM bundle WHERE id = 1");
                ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                throw new StoreException("bundle row is missing: the database was not migrated by central");
            }
            return rs.getLong(1);
        }
    }

    public void bump(Connection c, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE bundle SET sequence = sequence + 1, updated_at = ? WHERE id = 1")) {
            Sql.setInstant(ps, 1, now);
            if (ps.executeUpdate() != 1) {
                throw new StoreException("bundle row is missing: the database was not migrated by central");
            }
        }
    }

    public Optional<CaRecord> ca(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT chain, roots, updated_at FROM ca WHERE id = 1");
                ResultSet rs = ps.executeQuery()) {
            return rs.next() ? Optional.of(new CaRecord(rs.getString(1), rs.getString(2), Sql.instant(rs, "updated_at")))
                    : Optional.empty();
        }
    }

    public void putCa(Connection c, String chainPem, String rootsPem, Instant now) throws SQLException {
        try (PreparedStatement del = c.prepareStatement("DELETE FROM ca WHERE id = 1")) {
            del.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO ca (id, chain, roots, updated_at) VALUES (1, ?, ?, ?)")) {
            ps.setString(1, chainPem);
            ps.setString(2, rootsPem);
            Sql.setInstant(ps, 3, now);
            ps.executeUpdate();
        }
    }
}
