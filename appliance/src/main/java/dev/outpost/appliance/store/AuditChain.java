package dev.outpost.appliance.store;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * The hash chain over audit rows (V7__audit_chain.sql): the canonical encoding of a link and the append step.
 *
 * <p>Encoding, version 1 (everything big-endian; docs/operations.md "Audit trail" documents it for other verifiers):
 * <pre>
 *   "outpost-audit-chain-v1"           22 ASCII bytes, a fixed domain tag
 *   lasting                            1 byte, 0 or 1: which of the two chains
 *   seq                                8 bytes, the link's place in its chain, 1, 2, 3, ...
 *   prev                               32 bytes, the previous link's hash (the chain base's for seq base+1)
 *   at                                 8 bytes epoch seconds, 4 bytes nanoseconds (a multiple of 1000: stored to the µs)
 *   device_id, action, decision,       each: 0x00 when null, else 0x01, 4 bytes UTF-8 length, the UTF-8 bytes
 *   reason, detail
 * </pre>
 * and the link's hash is SHA-256 of it. Every variable field carries its length and null is distinct from empty, so
 * no two different rows encode alike. The fields are the values as stored (after the cuts of {@link AuditLog}), so a
 * verifier recomputes the hash from the table alone.
 */
public final class AuditChain {
    public static final int HASH_BYTES = 32;
    public static final byte[] ZERO = new byte[HASH_BYTES];
    private static final byte[] TAG = "outpost-audit-chain-v1".getBytes(StandardCharsets.US_ASCII);

    private AuditChain() {
    }

    /** One row's chained fields exactly as stored. */
    public record Link(boolean lasting, long seq, byte[] prev, Instant at, String deviceId, String action,
                       String decision, String reason, String detail) {
        /** SHA-256 of {@link #encode}; computed on each call (a caller that needs it twice keeps it). */
        public byte[] hash() {
            return AuditChain.hash(this);
        }
    }

    /** A link with its hash computed once, as an append writes it. */
    record Hashed(Link link, byte[] hash) {
    }

    /** The stored form of an instant: H2's TIMESTAMP WITH TIME ZONE keeps microseconds. */
    public static Instant storedInstant(Instant at) {
        return at.truncatedTo(ChronoUnit.MICROS);
    }

    public static byte[] encode(Link l) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(128);
        out.writeBytes(TAG);
        out.write(l.lasting() ? 1 : 0);
        out.writeBytes(ByteBuffer.allocate(8).putLong(l.seq()).array());
        if (l.prev() == null || l.prev().length != HASH_BYTES) {
            throw new IllegalArgumentException("prev must be " + HASH_BYTES + " bytes");
        }
        out.writeBytes(l.prev());
        out.writeBytes(ByteBuffer.allocate(12).putLong(l.at().getEpochSecond()).putInt(l.at().getNano()).array());
        text(out, l.deviceId());
        text(out, l.action());
        text(out, l.decision());
        text(out, l.reason());
        text(out, l.detail());
        return out.toByteArray();
    }

    public static byte[] hash(Link l) {
        return sha256().digest(encode(l));
    }

    private static void text(ByteArrayOutputStream out, String s) {
        if (s == null) {
            out.write(0);
            return;
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.write(1);
        out.writeBytes(ByteBuffer.allocate(4).putInt(b.length).array());
        out.writeBytes(b);
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256", e);
        }
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
            Link l = new Link(lasting, seq[i] + 1, hash[i], at, deviceId, action, decision, reason, detail);
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
