package dev.outpost.appliance.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Messages that must go upward once the link is back (store and forward). Written in the same kind of
 * transaction as the change they report, read in order, marked sent only after the far side acknowledged.
 */
public final class OutboxStore {
    public static final int MAX_PAYLOAD_CHARS = 1024 * 1024;

    public record Message(long id, Instant createdAt, String kind, String payload) {
    }

    private final Database db;

    public OutboxStore(Database db) {
        this.db = db;
    }

    public long enqueue(String kind, String payload, Instant at) {
        if (payload.length() > MAX_PAYLOAD_CHARS) {
            throw new IllegalArgumentException("outbox payload of " + payload.length() + " chars is over the limit");
        }
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO outbox (created_at, kind, payload) VALUES (?, ?, ?)", Statement.RETURN_GENERATED_KEYS)) {
                Sql.setInstant(ps, 1, at);
                ps.setString(2, kind);
                ps.setString(3, payload);
                ps.executeUpdate();
                try (ResultSet keys = ps.getGeneratedKeys()) {
                    keys.next();
                    return keys.getLong(1);
                }
            }
        });
    }

    /** Unsent messages, oldest first. */
    public List<Message> pending(int limit) {
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT id, created_at, kind, payload FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT ?")) {
                ps.setInt(1, Math.max(0, Math.min(limit, 10_000)));
                try (ResultSet rs = ps.executeQuery()) {
                    List<Message> out = new ArrayList<>();
                    while (rs.next()) {
                        out.add(new Message(rs.getLong(1), Sql.getInstant(rs, "created_at"), rs.getString(3), rs.getString(4)));
                    }
                    return out;
                }
            }
        });
    }

    public boolean markSent(long id, Instant at) {
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE outbox SET sent_at = ? WHERE id = ? AND sent_at IS NULL")) {
                Sql.setInstant(ps, 1, at);
                ps.setLong(2, id);
                return ps.executeUpdate() == 1;
            }
        });
    }
}
