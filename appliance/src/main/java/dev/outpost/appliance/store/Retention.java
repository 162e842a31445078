package dev.outpost.appliance.store;

import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.auditchain.ChainLink;
import dev.outpost.auditchain.ChainRow;

/**
 * Prunes the history tables, which otherwise grow one row per renewal for ever (an SVID row and an audit row:
 * hundreds of thousands a day on a site of thousands of devices). Keeps what an operator needs: every SVID not yet
 * expired (a revocation may need its serial), each device's last issuance whatever its age, routine audit for
 * {@code audit} and lasting audit ({@link AuditEvent#lasting}) for {@code auditLasting}.
 *
 * <p>Deletes in batches of {@code batchSize} rows, each its own short transaction, and at most
 * {@code maxBatchesPerRun} per run: one DELETE of a year's backlog would hold its locks and grow H2's undo log
 * until it committed, and every writer of the site would wait behind it. Blocking: call from a worker.
 */
public final class Retention {
    private static final Logger LOG = LoggerFactory.getLogger(Retention.class);
    public static final int MAX_BATCHES_PER_RUN = 50;

    // Each DELETE reads its range through an index (audit_by_retention, svids_by_not_after) and stops at the batch.
    // Rows from before the audit chain (V7): pruned by age as they always were.
    private static final String DELETE_AUDIT =
            "DELETE FROM audit WHERE lasting = ? AND at < ? AND chain_seq IS NULL FETCH FIRST ? ROWS ONLY";
    private static final String DELETE_CHAINED =
            "DELETE FROM audit WHERE lasting = ? AND chain_seq > ? AND chain_seq <= ?";
    // A device's current serial is its last issuance (DeviceStore.recordSvid writes both in one transaction).
    private static final String DELETE_SVIDS = "DELETE FROM svids s WHERE s.not_after < ? AND s.serial <> "
            + "COALESCE((SELECT d.svid_serial FROM devices d WHERE d.device_id = s.device_id), '') FETCH FIRST ? ROWS ONLY";

    /**
     * @param audit        routine audit rows are kept this long
     * @param auditLasting lasting audit rows are kept this long
     * @param svids        an SVID row is kept this long after the SVID expired (never the device's last issuance)
     */
    public record Settings(Duration audit, Duration auditLasting, Duration svids, int batchSize, int maxBatchesPerRun) {
        public Settings {
            if (batchSize < 1 || maxBatchesPerRun < 1) {
                throw new IllegalArgumentException("batch size and batches per run must be positive");
            }
        }
    }

    /** Rows one run deleted. */
    public record Pruned(int audit, int auditLasting, int svids) {
        public int total() {
            return audit + auditLasting + svids;
        }
    }

    private final Database db;
    private final Clock clock;
    private final Settings settings;
    private final AtomicBoolean running = new AtomicBoolean();

    public Retention(Database db, Clock clock, Settings settings) {
        this.db = db;
        this.clock = clock;
        this.settings = settings;
    }

    /**
     * One run: batches until nothing is left to delete or {@code maxBatchesPerRun} batches ran (the rest waits for
     * the next run). A run that finds the previous one still going does nothing.
     */
    public Pruned run() {
        if (!running.compareAndSet(false, true)) {
            return new Pruned(0, 0, 0);
        }
        try {
            Instant now = clock.instant();
            int budget = settings.maxBatchesPerRun();
            int[] audit = drain(() -> pruneAudit(false, now.minus(settings.audit())), budget);
            budget -= audit[1];
            int[] lasting = drain(() -> pruneAudit(true, now.minus(settings.auditLasting())), budget);
            budget -= lasting[1];
            int[] svids = drain(() -> pruneSvids(now.minus(settings.svids())), budget);
            Pruned p = new Pruned(audit[0], lasting[0], svids[0]);
            if (p.total() > 0) {
                LOG.debug("retention: deleted {} routine and {} lasting audit rows, {} SVID rows", p.audit(),
                        p.auditLasting(), p.svids());
            }
            return p;
        } finally {
            running.set(false);
        }
    }

    /** Runs batches while they come back full and the budget lasts; returns {rows, batches}. */
    private int[] drain(java.util.function.IntSupplier batch, int budget) {
        int rows = 0;
        int batches = 0;
        while (batches < budget) {
            int n = batch.getAsInt();
            batches++;
            rows += n;
            if (n < settings.batchSize()) {
                break;
            }
        }
        return new int[] {rows, batches};
    }

    /**
     * One batch of audit rows of one kind older than {@code before}; at most {@code batchSize}. Chained rows go as a
     * prefix of their chain only (a row in the middle stays until every row before it is due), and the chain's base
     * moves to the last row pruned in the same transaction, so the chain still verifies from its base. Pruned rows are
     * verified before they go: retention must not launder an edited row into "pruned", so a batch that does not verify
     * is kept and reported instead.
     */
    int pruneAudit(boolean lasting, Instant before) {
        return db.inTransaction(c -> {
            int legacy;
            try (PreparedStatement ps = c.prepareStatement(DELETE_AUDIT)) {
                ps.setBoolean(1, lasting);
                Sql.setInstant(ps, 2, before);
                ps.setInt(3, settings.batchSize());
                legacy = ps.executeUpdate();
            }
            if (legacy > 0) {
                return legacy;
            }
            AuditChain.lockWriters(c); // as appends do: the base and the heads share audit_chain's rows
            AuditChainRows.State st = AuditChainRows.state(c, lasting);
            long seq = st.baseSeq();
            byte[] hash = st.baseHash();
            for (ChainRow r : AuditChainRows.page(c, lasting, st.baseSeq(), settings.batchSize())) {
                ChainLink l = r.link();
                if (!l.at().isBefore(before)) {
                    break;
                }
                if (l.seq() != seq + 1 || !java.util.Arrays.equals(l.prev(), hash)
                        || !java.util.Arrays.equals(l.hash(), r.storedHash())) {
                    LOG.error("audit chain ({}) does not verify at seq {} (audit id {}): retention keeps the rows from "
                            + "there; run `outpost-appliance audit verify`", lasting ? "lasting" : "routine", seq + 1, r.id());
                    break;
                }
                seq = l.seq();
                hash = r.storedHash();
            }
            if (seq == st.baseSeq()) {
                return 0;
            }
            int n;
            try (PreparedStatement ps = c.prepareStatement(DELETE_CHAINED)) {
                ps.setBoolean(1, lasting);
                ps.setLong(2, st.baseSeq());
                ps.setLong(3, seq);
                n = ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE audit_chain SET base_seq = ?, base_hash = ? WHERE lasting = ?")) {
                ps.setLong(1, seq);
                ps.setBytes(2, hash);
                ps.setBoolean(3, lasting);
                ps.executeUpdate();
            }
            return n;
        });
    }

    /** One batch of SVID rows that expired before {@code before} and are not their device's last; at most {@code batchSize}. */
    int pruneSvids(Instant before) {
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(DELETE_SVIDS)) {
                Sql.setInstant(ps, 1, before);
                ps.setInt(2, settings.batchSize());
                return ps.executeUpdate();
            }
        });
    }
}
