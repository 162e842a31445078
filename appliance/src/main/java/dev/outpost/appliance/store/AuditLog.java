package dev.outpost.appliance.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import dev.outpost.auditchain.ChainLink;

/** Append-only audit trail. Blocking: call from a worker. */
public final class AuditLog {
    public static final int MAX_LIMIT = 10_000;
    private static final String COLUMNS = "id, at, device_id, action, decision, reason, detail";

    private static final String INSERT = "INSERT INTO audit (at, device_id, action, decision, reason, detail, lasting, "
            + "chain_seq, chain_prev, chain_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

    private final Database db;
    private final RefusalCoalescer refusals = new RefusalCoalescer();
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private boolean writing;

    public AuditLog(Database db) {
        this.db = db;
    }

    /**
     * Stores the event and returns its id once it is committed. Overlong text is cut so that auditing never fails
     * a decision.
     *
     * <p>Group commit: while one caller writes, others queue, and the writer then commits everything queued in
     * one transaction. Each caller still returns only after its own row is durable, but under load a commit (the
     * costly part in H2) carries many rows: an enrollment storm audits several decisions per device, and audit
     * commits were 8 % of the appliance's CPU.
     */
    public long record(AuditEvent e) {
        Pending mine = new Pending(e);
        boolean lead;
        synchronized (queue) {
            queue.add(mine);
            lead = !writing;
            writing = true;
        }
        if (!lead && !mine.awaitTurn()) {
            return mine.await();
        }
        // This caller writes one batch (its own row and all queued), then hands the writing to the next in line.
        List<Pending> batch;
        synchronized (queue) {
            batch = new ArrayList<>(queue);
            queue.clear();
        }
        write(batch);
        synchronized (queue) {
            Pending next = queue.peek();
            if (next == null) {
                writing = false;
            } else {
                next.turn.complete(null);
            }
        }
        return mine.await();
    }

    /**
     * A refusal (decision DENY) whose reason starts with its error code: the first of a burst of alike ones is
     * stored at once, the rest are counted and stored as one row when the burst's minute is over (by the next alike
     * refusal or {@link #flushRefusals}).
     *
     * @return true when this refusal was stored (it opened a burst): worth a log line; false for a counted repeat
     */
    public boolean recordRefusal(AuditEvent e) {
        List<AuditEvent> rows = refusals.offer(e);
        rows.forEach(this::record);
        return !rows.isEmpty();
    }

    /** Stores the counts of refusal bursts whose minute ended by {@code now}; the appliance calls it on a timer. */
    public int flushRefusals(Instant now) {
        List<AuditEvent> rows = refusals.closeEnded(now);
        rows.forEach(this::record);
        return rows.size();
    }

    private void write(List<Pending> batch) {
        try {
            List<Long> ids = db.inTransaction(c -> {
                // the heads stay locked to the commit: no other transaction appends in between, so no fork
                AuditChain.Heads heads = AuditChain.lock(c);
                List<Long> out = new ArrayList<>(batch.size());
                List<AuditChain.Hashed> links = new ArrayList<>(batch.size());
                try (PreparedStatement ps = c.prepareStatement(INSERT, Statement.RETURN_GENERATED_KEYS)) {
                    for (Pending p : batch) {
                        AuditChain.Hashed l = link(heads, p.event);
                        links.add(l);
                        bind(ps, l);
                        ps.executeUpdate();
                        try (ResultSet keys = ps.getGeneratedKeys()) {
                            keys.next();
                            out.add(keys.getLong(1));
                        }
                    }
                }
                heads.save(c);
                // Central gets the audit trail (and an operator's acts as such) in the transaction that stores it.
                for (int i = 0; i < batch.size(); i++) {
                    upward(c, out.get(i), links.get(i), batch.get(i).event);
                }
                return out;
            });
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).done.complete(ids.get(i));
            }
        } catch (RuntimeException ex) {
            batch.forEach(p -> p.done.completeExceptionally(ex));
        }
    }

    /**
     * Stores the event inside the caller's transaction (a directive's effect, its version and its audit row commit
     * together). Bypasses the group commit: the caller's commit is the durable point.
     */
    public void record(java.sql.Connection c, AuditEvent e) throws SQLException {
        AuditChain.Heads heads = AuditChain.lock(c);
        AuditChain.Hashed l = link(heads, e);
        try (PreparedStatement ps = c.prepareStatement(INSERT, Statement.RETURN_GENERATED_KEYS)) {
            bind(ps, l);
            ps.executeUpdate();
            heads.save(c);
            // central gets this row too, in the caller's transaction, like every group-committed one
            try (ResultSet keys = ps.getGeneratedKeys()) {
                keys.next();
                upward(c, keys.getLong(1), l, e);
            }
        }
    }

    private void upward(java.sql.Connection c, long id, AuditChain.Hashed h, AuditEvent e) throws SQLException {
        ChainLink l = h.link();
        // the stored values and the chain fields, so central can recompute the chain (docs/upward-link.md)
        java.util.Map<String, Object> data = new java.util.LinkedHashMap<>();
        data.put("id", id);
        data.put("at", l.at().toString());
        data.put("deviceId", l.deviceId());
        data.put("action", l.action());
        data.put("decision", l.decision());
        data.put("reason", l.reason());
        data.put("detail", l.detail());
        data.put("chain", l.lasting() ? "lasting" : "routine");
        data.put("seq", l.seq());
        data.put("prev", java.util.HexFormat.of().formatHex(l.prev()));
        data.put("hash", java.util.HexFormat.of().formatHex(h.hash()));
        db.outbox().append(c, "audit", l.at(), routineKey(l), data);
        if (e.operatorAction()) {
            java.util.Map<String, Object> op = new java.util.LinkedHashMap<>();
            op.put("action", Sql.truncate(e.action(), 64));
            op.put("target", Sql.truncate(e.deviceId(), 128));
            op.put("detail", Sql.truncate(e.reason(), 1024));
            db.outbox().append(c, "operator", e.at(), null, op);
        }
    }

    /**
     * Routine records (renewals, passes, workload issuances: one or more per device per hour) coalesce at the outbox's
     * bound, the latest per device and action winning, as device states do; without that a 10,000-device site cut off
     * for a day outgrows any bound (BENCHMARKS.md, "Outbox growth"). Lasting records (revocations, operator acts,
     * failures, enrollments) never coalesce. The site keeps its whole routine chain for {@code audit verify}; central's
     * copy of that chain has gaps where the site coalesced, and the site's {@code coalesced} count says how many.
     */
    static String routineKey(ChainLink l) {
        return l.lasting() ? null : "audit:" + (l.deviceId() == null ? "-" : l.deviceId()) + ":" + l.action();
    }

    /** The row as it is stored (cut to the columns, time to the µs) and chained: the values the hash covers. */
    private static AuditChain.Hashed link(AuditChain.Heads heads, AuditEvent e) {
        // a malformed id from a hostile peer is kept in the detail, not in the indexed column
        String detail = e.detail();
        if (e.deviceId() != null && !Sql.isHex64(e.deviceId())) {
            detail = "device id as sent: " + Sql.truncate(e.deviceId(), 100) + (detail == null ? "" : "; " + detail);
        }
        return heads.append(e.lasting(), ChainLink.storedInstant(e.at()), Sql.isHex64(e.deviceId()) ? e.deviceId() : null,
                Sql.truncate(e.action(), 64), e.decision().dbValue(), Sql.truncate(e.reason(), 1024),
                Sql.truncate(detail, 8192));
    }

    private static void bind(PreparedStatement ps, AuditChain.Hashed h) throws SQLException {
        ChainLink l = h.link();
        Sql.setInstant(ps, 1, l.at());
        ps.setString(2, l.deviceId());
        ps.setString(3, l.action());
        ps.setString(4, l.decision());
        ps.setString(5, l.reason());
        ps.setString(6, l.detail());
        ps.setBoolean(7, l.lasting());
        ps.setLong(8, l.seq());
        ps.setBytes(9, l.prev());
        ps.setBytes(10, h.hash());
    }

    /** One caller's event, the id it gets once committed, and the signal that it is its turn to write. */
    private static final class Pending {
        final AuditEvent event;
        final CompletableFuture<Long> done = new CompletableFuture<>();
        final CompletableFuture<Void> turn = new CompletableFuture<>();

        Pending(AuditEvent event) {
            this.event = event;
        }

        /** Waits until the row is written by another caller (false) or this caller is to write (true). */
        boolean awaitTurn() {
            CompletableFuture.anyOf(done, turn).exceptionally(x -> null).join();
            return !done.isDone();
        }

        long await() {
            try {
                return done.join();
            } catch (CompletionException ex) {
                throw ex.getCause() instanceof RuntimeException r ? r : ex;
            }
        }
    }

    /** Newest first. */
    public List<AuditEvent> recent(int limit) {
        return query("SELECT " + COLUMNS + " FROM audit ORDER BY id DESC LIMIT ?", null, limit);
    }

    /** Newest first. */
    public List<AuditEvent> forDevice(String id, int limit) {
        return query("SELECT " + COLUMNS + " FROM audit WHERE device_id = ? ORDER BY id DESC LIMIT ?", id, limit);
    }

    private List<AuditEvent> query(String sql, String deviceId, int limit) {
        int bounded = Math.max(0, Math.min(limit, MAX_LIMIT));
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int i = 1;
                if (deviceId != null) {
                    ps.setString(i++, deviceId);
                }
                ps.setInt(i, bounded);
                try (ResultSet rs = ps.executeQuery()) {
                    List<AuditEvent> out = new ArrayList<>();
                    while (rs.next()) {
                        out.add(read(rs));
                    }
                    return out;
                }
            }
        });
    }

    private static AuditEvent read(ResultSet rs) throws SQLException {
        return new AuditEvent(rs.getLong("id"), Sql.getInstant(rs, "at"), rs.getString("device_id"),
                rs.getString("action"), AuditEvent.Decision.fromDb(rs.getString("decision")), rs.getString("reason"),
                rs.getString("detail"));
    }
}
