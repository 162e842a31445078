package dev.outpost.appliance.workload;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import dev.outpost.appliance.store.AuditEvent;
import dev.outpost.appliance.store.AuditLog;
import dev.outpost.appliance.store.Database;

/**
 * The {@code entries} table (V8) and its revision. Every create and delete moves the revision and writes its audit
 * record in the same transaction, so the revision a verdict carries never names a set that was not committed.
 * Reads come from a copy held in memory (entries are few and asked for on every workload request), replaced after
 * each write.
 */
public final class EntryStore {
    /** The whole site's entries: bounds the memory copy and what every lookup scans. */
    public static final int MAX_TOTAL = 10_000;
    private static final String COLUMNS = "id, spiffe_id, parents, selectors, x509_ttl_s, jwt_ttl_s, federates_with, "
            + "dns_names, created_at";

    private final Database db;
    private final AuditLog audit;
    private volatile Snapshot snapshot;

    /** The entries and the revision they are at, read together. */
    public record Snapshot(long revision, List<Entry> entries) {
    }

    public EntryStore(Database db, AuditLog audit) {
        this.db = db;
        this.audit = audit;
        this.snapshot = read();
    }

    public Snapshot snapshot() {
        return snapshot;
    }

    public long revision() {
        return snapshot.revision();
    }

    public List<Entry> list() {
        return snapshot.entries();
    }

    public Optional<Entry> find(String id) {
        return snapshot.entries().stream().filter(e -> e.id().equals(id)).findFirst();
    }

    /** Stores {@code e}, moves the revision and records {@code why}, in one transaction; returns the new revision. */
    public synchronized long create(Entry e, AuditEvent why) {
        if (snapshot.entries().size() >= MAX_TOTAL) {
            throw new IllegalArgumentException("this site holds " + MAX_TOTAL + " entries, the limit: delete some first");
        }
        long rev = db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO entries (" + COLUMNS
                    + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, e.id());
                ps.setString(2, e.spiffeId());
                ps.setString(3, String.join("\n", e.parents()));
                ps.setString(4, String.join("\n", e.selectors()));
                ps.setLong(5, e.x509Ttl().toSeconds());
                ps.setLong(6, e.jwtTtl().toSeconds());
                ps.setString(7, e.federatesWith().isEmpty() ? null : String.join("\n", e.federatesWith()));
                ps.setString(8, e.dnsNames().isEmpty() ? null : String.join("\n", e.dnsNames()));
                ps.setObject(9, OffsetDateTime.ofInstant(e.createdAt(), ZoneOffset.UTC));
                ps.executeUpdate();
            }
            audit.record(c, why);
            return bump(c);
        });
        snapshot = read();
        return rev;
    }

    /** Deletes entry {@code id}; empty when there is none (nothing changes, the revision stays). */
    public synchronized Optional<Long> delete(String id, AuditEvent why) {
        Optional<Long> rev = db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM entries WHERE id = ?")) {
                ps.setString(1, id);
                if (ps.executeUpdate() == 0) {
                    return Optional.empty();
                }
            }
            audit.record(c, why);
            return Optional.of(bump(c));
        });
        snapshot = read();
        return rev;
    }

    private static long bump(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE entries_revision SET revision = revision + 1 WHERE id = 1")) {
            ps.executeUpdate();
        }
        return revision(c);
    }

    private static long revision(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT revision FROM entries_revision WHERE id = 1");
                ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                throw new SQLException("entries_revision has no row (migration V8 incomplete)");
            }
            return rs.getLong(1);
        }
    }

    private Snapshot read() {
        return db.inTransaction(c -> {
            List<Entry> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM entries ORDER BY created_at, id");
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Entry(rs.getString("id"), rs.getString("spiffe_id"), lines(rs.getString("parents")),
                            lines(rs.getString("selectors")), Duration.ofSeconds(rs.getLong("x509_ttl_s")),
                            Duration.ofSeconds(rs.getLong("jwt_ttl_s")), lines(rs.getString("federates_with")),
                            lines(rs.getString("dns_names")),
                            rs.getObject("created_at", OffsetDateTime.class).toInstant()));
                }
            }
            return new Snapshot(revision(c), List.copyOf(out));
        });
    }

    private static List<String> lines(String s) {
        return s == null || s.isEmpty() ? List.of() : Arrays.asList(s.split("\n"));
    }
}
