package dev.outpost.appliance.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;

/**
 * The trust bundle's {@code spiffe_sequence}. Persisted so it only ever grows, across restarts too: peers
 * drop a bundle whose sequence is not newer than the one they hold.
 */
public final class BundleStore {
    private final Database db;
    private final Clock clock;

    public BundleStore(Database db) {
        this(db, Clock.systemUTC());
    }

    public BundleStore(Database db, Clock clock) {
        this.db = db;
        this.clock = clock;
    }

    public long sequence() {
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT sequence FROM bundle WHERE id = 1");
                 ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new StoreException("bundle row missing: the schema was not migrated");
                }
                return rs.getLong(1);
            }
        });
    }

    /** Increments the sequence and returns the new value; concurrent callers each get their own number. */
    public long bump() {
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE bundle SET sequence = sequence + 1, updated_at = ? WHERE id = 1")) {
                Sql.setInstant(ps, 1, clock.instant());
                if (ps.executeUpdate() != 1) {
                    throw new StoreException("bundle row missing: the schema was not migrated");
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT sequence FROM bundle WHERE id = 1");
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }
}
