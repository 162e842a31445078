package dev.outpost.central.events;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;

import dev.outpost.central.fleet.FleetProjection;
import dev.outpost.central.refusal.Refusal;
import dev.outpost.central.refusal.RefusedInTransaction;
import dev.outpost.central.store.Database;
import dev.outpost.central.store.Sql;

/**
 * Stores a site's events exactly once (docs/upward-link.md "Store and forward"). The site's row is locked for the
 * transaction, so two central instances on one PostgreSQL taking batches of the same site serialise on it and
 * the second one sees the first one's {@code acked_through}; the primary key (site, seq) is the last line of defence.
 * Events, acknowledgement, fleet projection and last contact commit together or not at all. Blocking: a worker.
 */
public final class EventIngest {
    /**
     * {@code gap}: nothing stored, the site must resend from {@code ackedThrough + 1}. {@code divergedAt} (0: none):
     * nothing stored, the event the site sent under that seq is not the one central holds there, so the site reused
     * numbers central had already taken (its database was restored from a backup) and must renumber from there.
     */
    public record Outcome(long ackedThrough, boolean gap, int stored, long divergedAt) {
        Outcome(long ackedThrough, boolean gap, int stored) {
            this(ackedThrough, gap, stored, 0);
        }
    }

    private final Database db;
    private final Clock clock;
    private final FleetProjection fleet = new FleetProjection();

    public EventIngest(Database db, Clock clock) {
        this.db = db;
        this.clock = clock;
    }

    public Outcome ingest(String site, EventBatch batch) throws Refusal {
        Instant now = clock.instant();
        try {
            return db.inTransaction(c -> {
                long acked = lockAcked(c, site);
                long diverged = divergedAt(c, site, acked, batch);
                if (diverged > 0) {
                    touch(c, site, acked, now);
                    return new Outcome(acked, false, 0, diverged);
                }
                if (batch.through() <= acked) {
                    // A repeat (the site did not hear our answer): nothing changes but the contact time. The answer
                    // is what we hold, which covers everything the site sent.
                    touch(c, site, acked, now);
                    return new Outcome(acked, false, 0);
                }
                if (batch.from() > acked + 1) {
                    return new Outcome(acked, true, 0);
                }
                int stored = 0;
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO site_events (site, seq, at, kind, data, received_at, device_id) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
                    for (EventBatch.Event e : batch.events()) {
                        if (e.seq() <= acked) {
                            continue;
                        }
                        ps.setString(1, site);
                        ps.setLong(2, e.seq());
                        Sql.setInstant(ps, 3, e.at());
                        ps.setString(4, e.kind());
                        ps.setString(5, e.data());
                        Sql.setInstant(ps, 6, now);
                        ps.setString(7, e.deviceId());
                        ps.addBatch();
                        stored++;
                    }
                    ps.executeBatch();
                }
                for (EventBatch.Event e : batch.events()) {
                    if (e.seq() > acked) {
                        fleet.apply(c, site, e);
                    }
                }
                touch(c, site, batch.through(), now);
                return new Outcome(batch.through(), false, stored);
            });
        } catch (RefusedInTransaction r) {
            throw r.refusal();
        }
    }

    /**
     * The first event of the batch at or below {@code acked} that is not the event central holds under its seq, or 0.
     * A resend is the same event byte for byte (the site keeps its rows as it sent them). Where central holds no
     * event at a seq it acknowledged, the site coalesced it away or central pruned it, and a resend of it is a
     * repeat, unless the site says its database was restored from a backup that ended below that seq: then it is
     * an event central has never seen, written under a number central already passed.
     */
    private static long divergedAt(Connection c, String site, long acked, EventBatch batch) throws SQLException {
        if (batch.events().isEmpty() || batch.events().get(0).seq() > acked) {
            return 0;
        }
        // By the batch's own seqs (at most 500), never a range: a batch may span millions of seqs with holes.
        java.util.List<Long> resent = batch.events().stream().map(EventBatch.Event::seq).filter(s -> s <= acked).toList();
        java.util.Map<Long, EventBatch.Event> held = new java.util.HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT seq, at, kind, data FROM site_events WHERE site = ? AND seq IN ("
                + String.join(", ", java.util.Collections.nCopies(resent.size(), "?")) + ")")) {
            ps.setString(1, site);
            for (int i = 0; i < resent.size(); i++) {
                ps.setLong(i + 2, resent.get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    held.put(rs.getLong(1), new EventBatch.Event(rs.getLong(1), Sql.instant(rs, "at"), rs.getString(3),
                            rs.getString(4), null));
                }
            }
        }
        for (EventBatch.Event e : batch.events()) {
            if (e.seq() > acked) {
                break;
            }
            EventBatch.Event h = held.get(e.seq());
            boolean same = h == null
                    ? batch.restoredThrough() == EventBatch.NOT_RESTORED || e.seq() <= batch.restoredThrough()
                    : h.kind().equals(e.kind()) && h.data().equals(e.data()) && h.at().equals(e.at());
            if (!same) {
                return e.seq();
            }
        }
        return 0;
    }

    private static long lockAcked(Connection c, String site) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT acked_through FROM sites WHERE name = ? FOR UPDATE")) {
            ps.setString(1, site);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    // The authenticator found the site a moment ago; it cannot vanish (sites are never deleted).
                    throw new RefusedInTransaction(Refusal.notFound("no site " + site));
                }
                return rs.getLong(1);
            }
        }
    }

    private static void touch(Connection c, String site, long acked, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE sites SET acked_through = ?, last_contact = ? WHERE name = ?")) {
            ps.setLong(1, acked);
            Sql.setInstant(ps, 2, now);
            ps.setString(3, site);
            ps.executeUpdate();
        }
    }
}
