package dev.outpost.appliance.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Revocation events waiting for the webhook's 2xx (V11): written before the first try, deleted once delivered, so a
 * receiver that is down or an appliance that restarts delays a delivery and never loses it. Oldest first.
 */
public final class WebhookQueue {
    /** The most bytes one event may have: a signed revocation is well under 1 KiB. */
    public static final int MAX_BODY_BYTES = 65_536;
    private static final int MAX_ERROR_CHARS = 512;

    public record Waiting(long id, Instant createdAt, byte[] body, int attempts) {
    }

    private final Database db;

    public WebhookQueue(Database db) {
        this.db = db;
    }

    /** Adds an event behind those waiting and returns its id. */
    public long add(byte[] body, Instant at) {
        if (body.length == 0 || body.length > MAX_BODY_BYTES) {
            throw new IllegalArgumentException("a webhook event is 1 to " + MAX_BODY_BYTES + " bytes, got " + body.length);
        }
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO webhook_queue (created_at, body) VALUES (?, ?)", Statement.RETURN_GENERATED_KEYS)) {
                Sql.setInstant(ps, 1, at);
                ps.setBytes(2, body);
                ps.executeUpdate();
                try (ResultSet keys = ps.getGeneratedKeys()) {
                    keys.next();
                    return keys.getLong(1);
                }
            }
        });
    }

    /** The oldest waiting events, at most {@code limit}. */
    public List<Waiting> oldest(int limit) {
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT id, created_at, body, attempts FROM webhook_queue ORDER BY id LIMIT ?")) {
                ps.setInt(1, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    List<Waiting> out = new ArrayList<>();
                    while (rs.next()) {
                        out.add(new Waiting(rs.getLong("id"), Sql.getInstant(rs, "created_at"), rs.getBytes("body"),
                                rs.getInt("attempts")));
                    }
                    return out;
                }
            }
        });
    }

    public void delivered(long id) {
        db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM webhook_queue WHERE id = ?")) {
                ps.setLong(1, id);
                return ps.executeUpdate();
            }
        });
    }

    /** Counts a failed try of this event and keeps why, for an operator reading the table. */
    public void failed(long id, String why) {
        String cut = why == null ? "" : why.length() > MAX_ERROR_CHARS ? why.substring(0, MAX_ERROR_CHARS) : why;
        db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE webhook_queue SET attempts = attempts + 1, last_error = ? WHERE id = ?")) {
                ps.setString(1, cut);
                ps.setLong(2, id);
                return ps.executeUpdate();
            }
        });
    }

    public long size() {
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM webhook_queue");
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    /** Deletes the oldest events past the newest {@code keep}; returns how many went. */
    public int keepNewest(long keep) {
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "DELETE FROM webhook_queue WHERE id <= (SELECT id FROM webhook_queue ORDER BY id DESC "
                            + "LIMIT 1 OFFSET ?)")) {
                ps.setLong(1, keep);
                return ps.executeUpdate();
            }
        });
    }

    /** Deletes every waiting event; returns how many went. */
    public int clear() {
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM webhook_queue")) {
                return ps.executeUpdate();
            }
        });
    }
}
