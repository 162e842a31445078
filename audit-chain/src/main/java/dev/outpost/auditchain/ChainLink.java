package dev.outpost.auditchain;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * One link of an audit hash chain: a record's chained fields exactly as the appliance stored them, and the canonical
 * encoding its hash is taken over. The appliance chains its audit table with it; central recomputes the chain from the
 * {@code audit} events it received with the same code.
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
 * no two different rows encode alike. The fields are the values as stored (after the appliance's cuts), so a verifier
 * recomputes the hash from the stored values alone.
 */
public record ChainLink(boolean lasting, long seq, byte[] prev, Instant at, String deviceId, String action,
                        String decision, String reason, String detail) {
    public static final int HASH_BYTES = 32;
    public static final byte[] ZERO = new byte[HASH_BYTES];
    private static final byte[] TAG = "outpost-audit-chain-v1".getBytes(StandardCharsets.US_ASCII);

    /** SHA-256 of {@link #encode}; computed on each call (a caller that needs it twice keeps it). */
    public byte[] hash() {
        return sha256().digest(encode());
    }

    /** The stored form of an instant: the appliance's TIMESTAMP WITH TIME ZONE keeps microseconds. */
    public static Instant storedInstant(Instant at) {
        return at.truncatedTo(ChronoUnit.MICROS);
    }

    /** The canonical bytes; refuses a prev that is not a 32-byte hash and a missing time. */
    public byte[] encode() {
        if (prev == null || prev.length != HASH_BYTES) {
            throw new IllegalArgumentException("prev must be " + HASH_BYTES + " bytes");
        }
        if (at == null) {
            throw new IllegalArgumentException("at is required");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(128);
        out.writeBytes(TAG);
        out.write(lasting ? 1 : 0);
        out.writeBytes(ByteBuffer.allocate(8).putLong(seq).array());
        out.writeBytes(prev);
        out.writeBytes(ByteBuffer.allocate(12).putLong(at.getEpochSecond()).putInt(at.getNano()).array());
        text(out, deviceId);
        text(out, action);
        text(out, decision);
        text(out, reason);
        text(out, detail);
        return out.toByteArray();
    }

    /** The same fields at another place in the chain (to recognise contents moved from one seq to another). */
    public ChainLink at(long otherSeq, byte[] otherPrev) {
        return new ChainLink(lasting, otherSeq, otherPrev, at, deviceId, action, decision, reason, detail);
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

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256", e);
        }
    }
}
