package dev.outpost.central.store;

import java.time.Clock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes audit rows. Allows are written in the transaction of the change they record; denials in a transaction of
 * their own (the refused change was rolled back), and only for registered sites.
 */
public final class Audit {
    private static final Logger LOG = LoggerFactory.getLogger(Audit.class);

    private final Database db;
    private final Clock clock;
    private final AuditStore store = new AuditStore();
    private final SiteStore sites = new SiteStore();

    public Audit(Database db, Clock clock) {
        this.db = db;
        this.clock = clock;
    }

    public void allow(java.sql.Connection c, String site, String action, String detail) throws java.sql.SQLException {
        store.record(c, clock.instant(), site, action, true, detail);
    }

    /** Best effort: a failure to audit a refusal is logged, and the refusal stands. */
    public void deny(String site, String action, String reason) {
        if (site == null) {
            return;
        }
        try {
            db.inTransaction(c -> {
                if (sites.find(c, site, false).isPresent()) {
                    store.record(c, clock.instant(), site, action, false, reason);
                }
                return null;
            });
        } catch (RuntimeException e) {
            LOG.warn("cannot audit the refusal of {} for site {}: {}", action, site, e.getMessage());
        }
    }
}
