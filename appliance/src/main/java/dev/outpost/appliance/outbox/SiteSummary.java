package dev.outpost.appliance.outbox;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

import dev.outpost.appliance.store.Database;
import dev.outpost.appliance.store.OutboxStore;

/**
 * The periodic {@code site.summary} event: devices by state, the site CA's expiry and the outbox's backlog as the
 * site sees it. Blocking (JDBC): a worker.
 */
public final class SiteSummary {
    private final Database db;
    private final Supplier<Instant> caNotAfter;
    private final Clock clock;

    public SiteSummary(Database db, Supplier<Instant> caNotAfter, Clock clock) {
        this.db = db;
        this.caNotAfter = caNotAfter;
        this.clock = clock;
    }

    public long append() {
        Map<String, Long> byState = db.inTransaction(c -> {
            Map<String, Long> m = new TreeMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT state, COUNT(*) FROM devices GROUP BY state");
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    m.put(rs.getString(1), rs.getLong(2));
                }
            }
            return m;
        });
        OutboxStore.Backlog b = db.outbox().backlog();
        Map<String, Object> backlog = new LinkedHashMap<>();
        backlog.put("rows", b.rows());
        backlog.put("bytes", b.bytes());
        backlog.put("oldestAt", b.oldestAt() == null ? null : b.oldestAt().toString());
        backlog.put("coalesced", b.coalesced());
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("devices", byState);
        Instant ca = caNotAfter.get();
        data.put("caNotAfter", ca == null ? null : ca.toString());
        data.put("backlog", backlog);
        return db.outbox().appendAlone("site.summary", clock.instant(), null, data);
    }
}
