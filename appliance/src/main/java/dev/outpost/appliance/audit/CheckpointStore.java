package dev.outpost.appliance.audit;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The audit_checkpoint table (V7__audit_chain.sql). Plain JDBC on a caller's connection. */
public final class CheckpointStore {
    /**
     * Checkpoints read at most: one per anchor interval while the heads move (a year at 5 min is 105,120, about
     * 120 MB in memory). Checkpoints are never pruned yet (docs/operations.md).
     */
    public static final int MAX_READ = 300_000;
    private static final String COLUMNS = "id, at, routine_seq, routine_hash, lasting_seq, lasting_hash, nv_index, "
            + "nv_value, qualifying, attest, signature, ak_public";

    private CheckpointStore() {
    }

    /**
     * In id order (the order they were anchored), all of them. Fails closed past {@link #MAX_READ}: verifying only a
     * prefix would report the TPM's value as a cut of the end.
     */
    public static List<Checkpoint> all(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM audit_checkpoint");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            if (rs.getLong(1) > MAX_READ) {
                throw new IllegalStateException(rs.getLong(1) + " audit checkpoints: more than the " + MAX_READ
                        + " verify holds in memory; not verified");
            }
        }
        List<Checkpoint> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM audit_checkpoint ORDER BY id LIMIT ?")) {
            ps.setInt(1, MAX_READ);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(read(rs));
                }
            }
        }
        return out;
    }

    public static Optional<Checkpoint> last(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM audit_checkpoint ORDER BY id DESC LIMIT 1");
             ResultSet rs = ps.executeQuery()) {
            return rs.next() ? Optional.of(read(rs)) : Optional.empty();
        }
    }

    /** Writes a pending checkpoint; returns its id. */
    static long insertPending(Connection c, Checkpoint p) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_checkpoint (at, routine_seq, routine_hash, "
                + "lasting_seq, lasting_hash, nv_index, nv_value) VALUES (?, ?, ?, ?, ?, ?, ?)",
                Statement.RETURN_GENERATED_KEYS)) {
            ps.setObject(1, java.time.OffsetDateTime.ofInstant(p.at(), java.time.ZoneOffset.UTC));
            ps.setLong(2, p.routineSeq());
            ps.setBytes(3, p.routineHash());
            ps.setLong(4, p.lastingSeq());
            ps.setBytes(5, p.lastingHash());
            ps.setInt(6, p.nvIndex());
            ps.setBytes(7, p.nvValue());
            ps.executeUpdate();
            try (ResultSet keys = ps.getGeneratedKeys()) {
                keys.next();
                return keys.getLong(1);
            }
        }
    }

    static void complete(Connection c, long id, byte[] qualifying, byte[] attest, byte[] signature, byte[] akPublic)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE audit_checkpoint SET qualifying = ?, attest = ?, "
                + "signature = ?, ak_public = ? WHERE id = ?")) {
            ps.setBytes(1, qualifying);
            ps.setBytes(2, attest);
            ps.setBytes(3, signature);
            ps.setBytes(4, akPublic);
            ps.setLong(5, id);
            ps.executeUpdate();
        }
    }

    private static Checkpoint read(ResultSet rs) throws SQLException {
        java.time.OffsetDateTime at = rs.getObject("at", java.time.OffsetDateTime.class);
        return new Checkpoint(rs.getLong("id"), at.toInstant(), rs.getLong("routine_seq"), rs.getBytes("routine_hash"),
                rs.getLong("lasting_seq"), rs.getBytes("lasting_hash"), rs.getInt("nv_index"), rs.getBytes("nv_value"),
                rs.getBytes("qualifying"), rs.getBytes("attest"), rs.getBytes("signature"), rs.getBytes("ak_public"));
    }
}
