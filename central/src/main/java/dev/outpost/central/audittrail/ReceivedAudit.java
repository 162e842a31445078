package dev.outpost.central.audittrail;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.auditchain.ChainLink;
import dev.outpost.auditchain.ChainRow;

/**
 * A site's {@code audit} and {@code audit.checkpoint} events as central stored them (site_events), parsed into chain
 * rows and checkpoints. Parsing fails closed per event: an event whose chain fields are malformed is listed as
 * unreadable (a problem for the report), never guessed at.
 */
public final class ReceivedAudit {
    /** More records than one run verifies: refused rather than verified as a prefix (which would read as a cut). */
    public static final int MAX_RECORDS = 2_000_000;
    static final int PAGE = 5000;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One received audit record: its chain row (id: the site's audit row id) and central's event seq. */
    public record Record(ChainRow row, long eventSeq) {
    }

    /** A received checkpoint; binary fields as sent (hex decoded). */
    public record Checkpoint(long eventSeq, long id, long routineSeq, byte[] routineHash, long lastingSeq,
                             byte[] lastingHash, int nvIndex, byte[] nvValue, byte[] qualifying, byte[] attest,
                             byte[] signature, byte[] akPublic) {
        public long seq(boolean lasting) {
            return lasting ? lastingSeq : routineSeq;
        }

        public byte[] hash(boolean lasting) {
            return lasting ? lastingHash : routineHash;
        }
    }

    /** @param unchained audit events without chain fields (from a site before the chain); @param unreadable why */
    public record Received(List<Record> routine, List<Record> lasting, List<Checkpoint> checkpoints, long unchained,
                           List<String> unreadable) {
        public List<Record> chain(boolean lasting) {
            return lasting ? this.lasting : routine;
        }
    }

    private ReceivedAudit() {
    }

    /** Every audit event of {@code site}, in central's event order, a page at a time. */
    public static Received read(Connection c, String site) throws SQLException {
        List<Record> routine = new ArrayList<>();
        List<Record> lasting = new ArrayList<>();
        List<Checkpoint> cps = new ArrayList<>();
        List<String> unreadable = new ArrayList<>();
        long unchained = 0;
        long after = -1;
        try (PreparedStatement ps = c.prepareStatement("SELECT seq, kind, data FROM site_events WHERE site = ? "
                + "AND kind IN ('audit', 'audit.checkpoint') AND seq > ? ORDER BY seq LIMIT " + PAGE)) {
            while (true) {
                ps.setString(1, site);
                ps.setLong(2, after);
                int n = 0;
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        n++;
                        long seq = rs.getLong(1);
                        after = seq;
                        String kind = rs.getString(2);
                        try {
                            JsonNode d = JSON.readTree(rs.getString(3));
                            if ("audit.checkpoint".equals(kind)) {
                                cps.add(checkpoint(seq, d));
                            } else if (!d.has("chain")) {
                                unchained++;
                            } else {
                                Record r = new Record(row(d), seq);
                                (r.row().link().lasting() ? lasting : routine).add(r);
                            }
                        } catch (IllegalArgumentException | java.io.IOException e) {
                            unreadable.add("event #" + seq + " (" + kind + "): " + e.getMessage());
                        }
                    }
                }
                if (routine.size() + lasting.size() > MAX_RECORDS) {
                    throw new IllegalStateException("site " + site + " has more than " + MAX_RECORDS + " audit records "
                            + "at central: refusing to verify a prefix");
                }
                if (n < PAGE) {
                    break;
                }
            }
        }
        return new Received(routine, lasting, cps, unchained, unreadable);
    }

    /** An {@code audit} event's data as the chain row it says it is (docs/upward-link.md "Kinds and their data"). */
    static ChainRow row(JsonNode d) {
        String chain = text(d, "chain", false);
        if (!"routine".equals(chain) && !"lasting".equals(chain)) {
            throw new IllegalArgumentException("chain must be routine or lasting, got " + chain);
        }
        java.time.Instant at;
        try {
            at = java.time.Instant.parse(text(d, "at", false));
        } catch (java.time.DateTimeException e) {
            throw new IllegalArgumentException("at is not an instant");
        }
        ChainLink l = new ChainLink("lasting".equals(chain), number(d, "seq"), hash(d, "prev"), at,
                text(d, "deviceId", true), text(d, "action", true), text(d, "decision", true), text(d, "reason", true),
                text(d, "detail", true));
        return new ChainRow(number(d, "id"), l, hash(d, "hash"));
    }

    static Checkpoint checkpoint(long eventSeq, JsonNode d) {
        long nv = number(d, "nvIndex");
        if (nv < 0 || nv > 0xFFFFFFFFL) {
            throw new IllegalArgumentException("nvIndex out of range");
        }
        return new Checkpoint(eventSeq, number(d, "id"), number(d, "routineSeq"), hash(d, "routineHash"),
                number(d, "lastingSeq"), hash(d, "lastingHash"), (int) nv, hex(d, "nvValue", 64),
                hex(d, "qualifying", 256), hex(d, "attest", 4096), hex(d, "signature", 4096), hex(d, "akPublic", 4096));
    }

    private static String text(JsonNode d, String f, boolean nullable) {
        JsonNode v = d.get(f);
        if (v == null || v.isNull()) {
            if (nullable) {
                return null;
            }
            throw new IllegalArgumentException(f + " is missing");
        }
        if (!v.isTextual()) {
            throw new IllegalArgumentException(f + " is not text");
        }
        return v.textValue();
    }

    private static long number(JsonNode d, String f) {
        JsonNode v = d.get(f);
        if (v == null || !v.canConvertToLong() || !v.isIntegralNumber() || v.longValue() < 0) {
            throw new IllegalArgumentException(f + " is not a non-negative integer");
        }
        return v.longValue();
    }

    private static byte[] hash(JsonNode d, String f) {
        byte[] b = hex(d, f, ChainLink.HASH_BYTES);
        if (b.length != ChainLink.HASH_BYTES) {
            throw new IllegalArgumentException(f + " is not a " + ChainLink.HASH_BYTES + "-byte hash");
        }
        return b;
    }

    private static byte[] hex(JsonNode d, String f, int maxBytes) {
        String s = text(d, f, false);
        if (s.length() > 2 * maxBytes) {
            throw new IllegalArgumentException(f + " is longer than " + maxBytes + " bytes");
        }
        try {
            return java.util.HexFormat.of().parseHex(s);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(f + " is not hex");
        }
    }
}
