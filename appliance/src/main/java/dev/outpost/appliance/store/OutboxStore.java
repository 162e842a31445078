package dev.outpost.appliance.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The outbox: what must go upward to central (docs/upward-link.md "Store and forward"). Producers call
 * {@link #append} on the connection of the transaction that makes the change, as its last statement (it locks the
 * sequence row until commit); the sender reads unsent rows in order and marks them sent only up to what central
 * acknowledged.
 *
 * <p>Every site writes its outbox, linked or not: a site that joins central later sends its history, and the bound
 * keeps an unlinked site's outbox from growing without end (sent rows are pruned, unsent ones coalesce at the bound).
 *
 * <p><b>The bound</b> ({@code outbox.maxRows}, {@code outbox.maxBytes} over unsent rows): while the backlog is at or
 * past it, appending a coalescible row ({@code device.state}, and routine audit records: see
 * {@code AuditLog.routineKey}) first deletes every unsent row it supersedes (same key) and every other superseded
 * unsent coalescible row; the latest of each key wins and the deleted rows are counted ({@code coalesced}). Rows of
 * any other kind are always written, bound or not: a revocation or a lasting audit record is never dropped or refused
 * for room.
 */
public final class OutboxStore {
    public static final int MAX_PAYLOAD_CHARS = 64 * 1024;
    public static final String DEVICE_STATE = "device.state";
    private static final ObjectMapper JSON = new ObjectMapper();

    public record Row(long seq, Instant createdAt, String kind, String payload, int size) {
    }

    /** @param restoredThrough where the backup this database was restored from ended, until settled; -1 if none */
    public record Backlog(long rows, long bytes, Instant oldestAt, long coalesced, long lastSeq, long ackedThrough,
            long restoredThrough) {
    }

    private volatile long maxRows = 100_000;
    private volatile long maxBytes = 64L * 1024 * 1024;
    private final Database db;

    OutboxStore(Database db) {
        this.db = db;
    }

    /** The bound (configuration {@code outbox.maxRows}/{@code outbox.maxBytes}). */
    public void bound(long rows, long bytes) {
        if (rows < 1 || bytes < 1) {
            throw new IllegalArgumentException("the outbox bound must be positive");
        }
        this.maxRows = rows;
        this.maxBytes = bytes;
    }

    /**
     * Appends one event in the caller's transaction and returns its seq. Call it last in the transaction: it holds
     * the outbox's sequence row locked until the commit.
     *
     * @param coalesceKey non-null for coalescible rows (the device id of a {@code device.state})
     */
    public long append(Connection c, String kind, Instant at, String coalesceKey, Map<String, ?> data) throws SQLException {
        String payload;
        try {
            payload = JSON.writeValueAsString(data);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("outbox data of " + kind + " is not JSON: " + e.getMessage(), e);
        }
        if (payload.length() > MAX_PAYLOAD_CHARS) {
            // Central takes at most 64 KiB of data per event; producers cut their text long before that.
            throw new IllegalArgumentException("outbox payload of " + kind + " is " + payload.length() + " chars, over "
                    + MAX_PAYLOAD_CHARS);
        }
        int size = payload.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        long seq;
        long rows;
        long bytes;
        boolean onePerKey;
        try (PreparedStatement ps = c.prepareStatement("UPDATE outbox_state SET last_seq = last_seq + 1 WHERE id = 1")) {
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT last_seq, unsent_rows, unsent_bytes, one_per_key FROM outbox_state WHERE id = 1");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            seq = rs.getLong(1);
            rows = rs.getLong(2);
            bytes = rs.getLong(3);
            onePerKey = rs.getBoolean(4);
        }
        boolean atBound = rows + 1 > maxRows || bytes + size > maxBytes;
        if (coalesceKey != null && atBound) {
            coalesce(c, coalesceKey, onePerKey);
        }
        // Past the bound every coalescible append leaves one row per key; below it, one may add a second.
        boolean onePerKeyAfter = coalesceKey == null ? onePerKey : atBound;
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO outbox (seq, created_at, kind, coalesce_key, payload, size) VALUES (?, ?, ?, ?, ?, ?)")) {
            ps.setLong(1, seq);
            Sql.setInstant(ps, 2, at);
            ps.setString(3, kind);
            ps.setString(4, coalesceKey);
            ps.setString(5, payload);
            ps.setInt(6, size);
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE outbox_state SET unsent_rows = unsent_rows + 1, unsent_bytes = unsent_bytes + ?, one_per_key = ? WHERE id = 1")) {
            ps.setLong(1, size);
            ps.setBoolean(2, onePerKeyAfter);
            ps.executeUpdate();
        }
        return seq;
    }

    /** Appends in a transaction of its own: for events that report no database change (a published revocation, a CA file switch). */
    public long appendAlone(String kind, Instant at, String coalesceKey, Map<String, ?> data) {
        return db.inTransaction(c -> append(c, kind, at, coalesceKey, data));
    }

    /**
     * Unsent rows in seq order, said in the order of the index (sent_at, seq): all have sent_at NULL, so it is seq
     * order, and H2 then reads the first rows of the index instead of every unsent row to sort them by seq (199,002
     * rows scanned for LIMIT 1 at a 200,000-row backlog, 13 ms each metrics tick; 10 % of the appliance's CPU at
     * 10,000 devices).
     */
    static final String UNSENT_IN_ORDER = "sent_at IS NULL ORDER BY sent_at, seq";

    // The new row supersedes unsent rows of its key; while over the bound, every other superseded unsent row goes too.
    // That search reads the whole backlog, so it runs only when a key may hold more than one unsent row (onePerKey
    // false: rows were appended below the bound since the last search); otherwise the key's own rows are all there is.
    private static void coalesce(Connection c, String key, boolean onePerKey) throws SQLException {
        long n = 0;
        long freed = 0;
        try (PreparedStatement sel = c.prepareStatement(onePerKey
                ? "SELECT seq, size FROM outbox WHERE coalesce_key = ? AND sent_at IS NULL"
                : "SELECT seq, size FROM outbox o WHERE sent_at IS NULL AND coalesce_key IS NOT NULL "
                + "AND (coalesce_key = ? OR EXISTS (SELECT 1 FROM outbox n WHERE n.coalesce_key = o.coalesce_key "
                + "AND n.sent_at IS NULL AND n.seq > o.seq))");
                PreparedStatement del = c.prepareStatement("DELETE FROM outbox WHERE seq = ?")) {
            sel.setString(1, key);
            try (ResultSet rs = sel.executeQuery()) {
                while (rs.next()) {
                    del.setLong(1, rs.getLong(1));
                    del.addBatch();
                    n++;
                    freed += rs.getInt(2);
                }
            }
            if (n > 0) {
                del.executeBatch();
            }
        }
        if (n > 0) {
            try (PreparedStatement ps = c.prepareStatement("UPDATE outbox_state SET unsent_rows = unsent_rows - ?, "
                    + "unsent_bytes = unsent_bytes - ?, coalesced = coalesced + ? WHERE id = 1")) {
                ps.setLong(1, n);
                ps.setLong(2, freed);
                ps.setLong(3, n);
                ps.executeUpdate();
            }
        }
    }

    /** Unsent rows in seq order: at most {@code maxRows}, and at most {@code maxBytes} of payload (but at least one row). */
    public List<Row> unsent(int maxRows, long maxBytes) {
        List<Row> rows = db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT seq, created_at, kind, payload, size FROM outbox WHERE " + UNSENT_IN_ORDER + " LIMIT ?")) {
                ps.setInt(1, Math.max(1, maxRows));
                try (ResultSet rs = ps.executeQuery()) {
                    List<Row> out = new ArrayList<>();
                    long total = 0;
                    while (rs.next()) {
                        int size = rs.getInt(5);
                        if (!out.isEmpty() && total + size > maxBytes) {
                            break;
                        }
                        total += size;
                        out.add(new Row(rs.getLong(1), Sql.getInstant(rs, "created_at"), rs.getString(3), rs.getString(4), size));
                    }
                    return out;
                }
            }
        });
        // A row is readable once its writer committed, a moment before that writer's group write reaches the file
        // (GroupCommit). Upward it must be in the file first: central would otherwise hold a seq the site could
        // lose in a crash and then reuse for another event.
        if (!rows.isEmpty()) {
            db.awaitDurable();
        }
        return rows;
    }

    /** Every row kept (sent or not) after {@code afterSeq}, in seq order: for inspection and tests. */
    public List<Row> rowsAfter(long afterSeq, int limit) {
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT seq, created_at, kind, payload, size FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?")) {
                ps.setLong(1, afterSeq);
                ps.setInt(2, Math.max(0, Math.min(limit, 10_000)));
                try (ResultSet rs = ps.executeQuery()) {
                    List<Row> out = new ArrayList<>();
                    while (rs.next()) {
                        out.add(new Row(rs.getLong(1), Sql.getInstant(rs, "created_at"), rs.getString(3), rs.getString(4),
                                rs.getInt(5)));
                    }
                    return out;
                }
            }
        });
    }

    /** Central holds everything through {@code through}: those rows are sent. Returns how many rows this marked. */
    public int markSent(long through, Instant at) {
        return db.inTransaction(c -> markSent(c, through, at));
    }

    // Central holding an event past a restore's end settles the restore: every later seq is one central gave no
    // other event (the marker is only needed until then).
    private static int markSent(Connection c, long through, Instant at) throws SQLException {
        long n;
        long freed;
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM outbox WHERE sent_at IS NULL AND seq <= ?")) {
            ps.setLong(1, through);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                n = rs.getLong(1);
                freed = rs.getLong(2);
            }
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE outbox SET sent_at = ? WHERE sent_at IS NULL AND seq <= ?")) {
            Sql.setInstant(ps, 1, at);
            ps.setLong(2, through);
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE outbox_state SET unsent_rows = unsent_rows - ?, "
                + "unsent_bytes = unsent_bytes - ?, acked_through = GREATEST(acked_through, ?), "
                + "restored_through = CASE WHEN restored_through < ? THEN NULL ELSE restored_through END WHERE id = 1")) {
            ps.setLong(1, n);
            ps.setLong(2, freed);
            ps.setLong(3, through);
            ps.setLong(4, through);
            ps.executeUpdate();
        }
        return (int) n;
    }

    /**
     * Marks a database just restored from a backup (outpost-appliance restore): events from now on are numbered after
     * the backup's last seq, which central may have passed while the backup aged. Sent with every batch until settled.
     */
    public static void markRestored(Database db) {
        db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE outbox_state SET restored_through = last_seq WHERE id = 1")) {
                ps.executeUpdate();
            }
            return null;
        });
    }

    /**
     * Central holds other events than ours under seqs from {@code firstNew} through {@code ackedThrough} (this
     * database was restored and reused them): our rows from {@code firstNew} on take new seqs after
     * {@code ackedThrough}, in their order; unsent rows before {@code firstNew} are ones central holds. One
     * transaction, holding the sequence row first so no append interleaves. Returns how many rows were renumbered.
     */
    public int rebase(long firstNew, long ackedThrough, Instant at) {
        if (firstNew < 1 || firstNew > ackedThrough) {
            throw new IllegalArgumentException("rebase needs 1 <= firstNew <= ackedThrough, got " + firstNew + ", " + ackedThrough);
        }
        long shift = ackedThrough + 1 - firstNew;
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE outbox_state SET last_seq = GREATEST(last_seq, ?) + ?, "
                    + "restored_through = NULL WHERE id = 1")) {
                ps.setLong(1, firstNew - 1);
                ps.setLong(2, shift);
                ps.executeUpdate();
            }
            int moved;
            // Through negative seqs, so no row ever lands on a seq another still holds (the primary key).
            try (PreparedStatement ps = c.prepareStatement("UPDATE outbox SET seq = -(seq + ?) WHERE seq >= ?")) {
                ps.setLong(1, shift);
                ps.setLong(2, firstNew);
                moved = ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE outbox SET seq = -seq WHERE seq < 0")) {
                ps.executeUpdate();
            }
            markSent(c, firstNew - 1, at);
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE outbox_state SET acked_through = GREATEST(acked_through, ?) WHERE id = 1")) {
                ps.setLong(1, ackedThrough);
                ps.executeUpdate();
            }
            return moved;
        });
    }

    /**
     * Central holds less than this site was told (its database was restored): rows after {@code ackedThrough} that
     * are still here go again. Rows already pruned cannot; central will then keep answering 409 and the sender says so.
     */
    public void rewind(long ackedThrough) {
        db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE outbox SET sent_at = NULL WHERE seq > ?")) {
                ps.setLong(1, ackedThrough);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE outbox_state SET acked_through = ?, one_per_key = FALSE, "
                    + "unsent_rows = (SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL), "
                    + "unsent_bytes = (SELECT COALESCE(SUM(size), 0) FROM outbox WHERE sent_at IS NULL) WHERE id = 1")) {
                ps.setLong(1, ackedThrough);
                ps.executeUpdate();
            }
            return null;
        });
    }

    /** Deletes sent rows sent before {@code before} ({@code outbox.sentRetention}); returns how many. */
    public int pruneSent(Instant before) {
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?")) {
                Sql.setInstant(ps, 1, before);
                return ps.executeUpdate();
            }
        });
    }

    public Backlog backlog() {
        return db.inTransaction(c -> {
            Instant oldest = null;
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT created_at FROM outbox WHERE " + UNSENT_IN_ORDER + " LIMIT 1"); ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    oldest = Sql.getInstant(rs, "created_at");
                }
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT unsent_rows, unsent_bytes, coalesced, last_seq, acked_through, COALESCE(restored_through, -1) "
                    + "FROM outbox_state WHERE id = 1");
                    ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new Backlog(rs.getLong(1), rs.getLong(2), oldest, rs.getLong(3), rs.getLong(4), rs.getLong(5),
                        rs.getLong(6));
            }
        });
    }
}
