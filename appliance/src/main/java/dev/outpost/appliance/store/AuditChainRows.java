package dev.outpost.appliance.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import dev.outpost.auditchain.ChainLink;
import dev.outpost.auditchain.ChainRow;

/**
 * Reads the chained audit rows ({@link ChainRow}: fields, and the prev and hash columns as stored) in chain order, a page at a time (keyset on chain_seq, through audit_chain_order), so
 * verifying or exporting a table of millions of rows holds one page in memory.
 */
public final class AuditChainRows {
    public static final int MAX_PAGE = 10_000;
    private static final String PAGE = "SELECT id, at, device_id, action, decision, reason, detail, lasting, chain_seq, "
            + "chain_prev, chain_hash FROM audit WHERE lasting = ? AND chain_seq > ? ORDER BY chain_seq LIMIT ?";

    /** A chain's head and base as audit_chain records them. */
    public record State(boolean lasting, long headSeq, byte[] headHash, long baseSeq, byte[] baseHash) {
    }

    private AuditChainRows() {
    }

    /** Up to {@code limit} rows of one chain with seq above {@code afterSeq}, in seq order. */
    public static List<ChainRow> page(Connection c, boolean lasting, long afterSeq, int limit) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(PAGE)) {
            ps.setBoolean(1, lasting);
            ps.setLong(2, afterSeq);
            ps.setInt(3, Math.max(1, Math.min(limit, MAX_PAGE)));
            try (ResultSet rs = ps.executeQuery()) {
                List<ChainRow> out = new ArrayList<>();
                while (rs.next()) {
                    ChainLink l = new ChainLink(rs.getBoolean("lasting"), rs.getLong("chain_seq"),
                            rs.getBytes("chain_prev"), Sql.getInstant(rs, "at"), rs.getString("device_id"),
                            rs.getString("action"), rs.getString("decision"), rs.getString("reason"),
                            rs.getString("detail"));
                    out.add(new ChainRow(rs.getLong("id"), l, rs.getBytes("chain_hash")));
                }
                return out;
            }
        }
    }

    public static State state(Connection c, boolean lasting) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT head_seq, head_hash, base_seq, base_hash FROM audit_chain WHERE lasting = ?")) {
            ps.setBoolean(1, lasting);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new StoreException("audit_chain has no " + (lasting ? "lasting" : "routine") + " row");
                }
                return new State(lasting, rs.getLong(1), rs.getBytes(2), rs.getLong(3), rs.getBytes(4));
            }
        }
    }

    /** Rows written before the chain existed (V7): kept and pruned as before, never verified. */
    public static long unchained(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM audit WHERE chain_seq IS NULL");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
