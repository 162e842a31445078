package dev.outpost.appliance.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;

import dev.outpost.auditchain.ChainLink;

/**
 * The hash chain over audit rows (V7__audit_chain.sql): the append step under the writers' lock. The canonical
 * encoding of a link and its hash are {@link ChainLink} (module audit-chain, shared with central, which verifies the
 * copy it receives with the same code).
 */
public final class AuditChain {
    private AuditChain() {
    }

    /** A link with its hash computed once, as an append writes it. */
    record Hashed(ChainLink link, byte[] hash) {
    }

    /**
     * The heads of both chains, for the rest of the caller's transaction. Serialised by outbox_state's row (taken
     * first): every audit append writes to the outbox too and so takes that lock anyway, and every writer of
     * audit_chain (appends, retention) takes it first, so no two transactions append after the same head (no fork)
     * and none waits for another in a cycle. The chain adds no wait the outbox did not already impose.
     */
    static Heads lock(Connection c) throws SQLException {
        lockWriters(c);
        Heads h = new Heads();
        try (PreparedStatement ps = c.prepareStatement("SELECT lasting, head_seq, head_hash FROM audit_chain");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                int i = rs.getBoolean(1) ? 1 : 0;
                h.seq[i] = rs.getLong(2);
                h.hash[i] = rs.getBytes(3);
            }
        }
        if (h.hash[0] == null || h.hash[1] == null) {
            throw new StoreException("audit_chain lacks a head row: the database was altered");
        }
        return h;
    }

    /** The lock every writer of the audit chain takes first (outbox_state's single row), held to its commit. */
    static void lockWriters(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT last_seq FROM outbox_state WHERE id = 1 FOR UPDATE")) {
            ps.executeQuery().close();
        }
    }

    /** The heads while a transaction appends: each append takes the next seq and moves the head. */
    static final class Heads {
        final long[] seq = new long[2];
        final byte[][] hash = new byte[2][];
        private final boolean[] moved = new boolean[2];

        Hashed append(boolean lasting, Instant at, String deviceId, String action, String decision, String reason,
                      String detail) {
            int i = lasting ? 1 : 0;
            ChainLink l = new ChainLink(lasting, seq[i] + 1, hash[i], at, deviceId, action, decision, reason, detail);
            seq[i] = l.seq();
            hash[i] = l.hash();
            moved[i] = true;
            return new Hashed(l, hash[i]);
        }

        void save(Connection c) throws SQLException {
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE audit_chain SET head_seq = ?, head_hash = ? WHERE lasting = ?")) {
                for (int i = 0; i < 2; i++) {
                    if (moved[i]) {
                        ps.setLong(1, seq[i]);
                        ps.setBytes(2, hash[i]);
                        ps.setBoolean(3, i == 1);
                        ps.executeUpdate();
                    }
                }
            }
        }
    }
}
