package dev.outpost.appliance.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import dev.outpost.tpm.HashAlg;

/**
 * Attestation policies (runtime = Keylime IMA policy, boot = measured-boot policy), stored as the operator gave
 * them, and which device gets which: its own assignment first, else the first of its labels that has one.
 */
public final class PolicyStore {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    /** The two kinds of policy a device is judged by. */
    public enum Kind {
        RUNTIME, BOOT;

        public String db() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** A stored policy. */
    public record Policy(String name, Kind kind, byte[] content, String sha256, Instant addedAt) {
    }

    /** A policy without its content, for listings. */
    /** @param source {@code local} (the site operator's) or {@code central}; @param centralVersion central's directive, or null */
    public record Summary(String name, Kind kind, String sha256, long bytes, Instant addedAt, String source,
            Long centralVersion) {
    }

    private final Database db;
    private final Clock clock;
    // Every attestation asks which policies apply and reads them: three queries and a policy-sized BLOB per
    // attestation, for answers that change only when an operator acts. Answers are cached; every write here
    // bumps the generation and empties the caches, and an answer read under an older generation is not kept.
    // This store must be the only writer of its tables (one instance per appliance).
    private final AtomicLong generation = new AtomicLong();
    private final Map<String, Optional<String>> resolved = new ConcurrentHashMap<>();
    private final Map<String, Optional<Policy>> byName = new ConcurrentHashMap<>();

    public PolicyStore(Database db, Clock clock) {
        this.db = db;
        this.clock = clock;
    }

    public static boolean validName(String s) {
        return s != null && NAME.matcher(s).matches();
    }

    /** Adds or replaces a policy; the caller has parsed and validated the content. */
    public Policy put(String name, Kind kind, byte[] content) {
        if (!validName(name)) {
            throw new IllegalArgumentException("policy name must be 1-64 letters, digits, '.', '_' or '-'");
        }
        String sha = HexFormat.of().formatHex(HashAlg.SHA256.digest(content));
        Instant now = clock.instant();
        writing(() -> db.inTransaction(c -> {
            store(c, name, kind, content, sha, now);
            // The operator made or edited it here: from now on it is the site's own, and central's directives for
            // this name are kept out (docs/operations.md, local wins).
            source(c, name, "local", null);
            return null;
        }));
        changed();
        return new Policy(name, kind, content, sha, now);
    }

    private static void store(java.sql.Connection c, String name, Kind kind, byte[] content, String sha, Instant now)
            throws java.sql.SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "MERGE INTO policies (name, kind, content, sha256, added_at) KEY (name) VALUES (?, ?, ?, ?, ?)")) {
            ps.setString(1, name);
            ps.setString(2, kind.db());
            ps.setBytes(3, content);
            ps.setString(4, sha);
            Sql.setInstant(ps, 5, now);
            ps.executeUpdate();
        }
    }

    private static void source(java.sql.Connection c, String name, String source, Long centralVersion)
            throws java.sql.SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "MERGE INTO policy_sources (name, source, central_version) KEY (name) VALUES (?, ?, ?)")) {
            ps.setString(1, name);
            ps.setString(2, source);
            if (centralVersion == null) {
                ps.setNull(3, java.sql.Types.BIGINT);
            } else {
                ps.setLong(3, centralVersion);
            }
            ps.executeUpdate();
        }
    }

    /**
     * Runs {@code work} (a transaction) while no other policy write runs. Central's directives read who made a policy
     * and then write it: an operator's edit committed in between would be overwritten, and local must win. This store
     * is the only writer of its tables, so one lock here orders the two.
     */
    public <T> T writing(Supplier<T> work) {
        synchronized (writes) {
            return work.get();
        }
    }

    private final Object writes = new Object();

    /** Who made a policy: the site operator or central. */
    public enum Source {
        LOCAL, CENTRAL
    }

    /**
     * Who made the policy {@code name}, empty when there is none. A policy without a recorded source is the
     * operator's (stored before sources were kept): when in doubt, the site's own wins.
     */
    public Optional<Source> source(java.sql.Connection c, String name) throws java.sql.SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT s.source FROM policies p LEFT JOIN policy_sources s "
                + "ON s.name = p.name WHERE p.name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of("central".equals(rs.getString(1)) ? Source.CENTRAL : Source.LOCAL);
            }
        }
    }

    /**
     * Central's policy (directive {@code version}), inside the caller's transaction; call {@link #changed()} after the
     * commit. A change of kind drops the old kind's assignments, which would otherwise point at a policy of the other
     * kind.
     */
    public void putFromCentral(java.sql.Connection c, String name, Kind kind, byte[] content, long version)
            throws java.sql.SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM policy_assignments WHERE policy_name = ? AND kind <> ?")) {
            ps.setString(1, name);
            ps.setString(2, kind.db());
            ps.executeUpdate();
        }
        store(c, name, kind, content, HexFormat.of().formatHex(HashAlg.SHA256.digest(content)), clock.instant());
        source(c, name, "central", version);
    }

    /** Assigns central's policy to {@code label:<label>}, inside the caller's transaction; false if no such policy. */
    public boolean assignFromCentral(java.sql.Connection c, String label, String name) throws java.sql.SQLException {
        String kind;
        try (PreparedStatement ps = c.prepareStatement("SELECT kind FROM policies WHERE name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return false;
                }
                kind = rs.getString(1);
            }
        }
        try (PreparedStatement ps = c.prepareStatement(
                "MERGE INTO policy_assignments (target, kind, policy_name) KEY (target, kind) VALUES (?, ?, ?)")) {
            ps.setString(1, "label:" + label);
            ps.setString(2, kind);
            ps.setString(3, name);
            ps.executeUpdate();
        }
        return true;
    }

    /** Removes a policy and its assignments inside the caller's transaction; false if there was none. */
    public boolean deleteFromCentral(java.sql.Connection c, String name) throws java.sql.SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM policy_assignments WHERE policy_name = ?")) {
            ps.setString(1, name);
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM policies WHERE name = ?")) {
            ps.setString(1, name);
            return ps.executeUpdate() == 1;
        }
    }

    public Optional<Policy> get(String name) {
        return cached(byName, name, () -> read(name));
    }

    private Optional<Policy> read(String name) {
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT name, kind, content, sha256, added_at FROM policies WHERE name = ?")) {
                ps.setString(1, name);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    return Optional.of(new Policy(rs.getString(1), Kind.valueOf(rs.getString(2).toUpperCase(java.util.Locale.ROOT)),
                            rs.getBytes(3), rs.getString(4), Sql.getInstant(rs, "added_at")));
                }
            }
        });
    }

    public List<Summary> list() {
        return db.inTransaction(c -> {
            List<Summary> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT p.name, p.kind, p.sha256, OCTET_LENGTH(p.content), p.added_at, s.source, s.central_version "
                            + "FROM policies p LEFT JOIN policy_sources s ON s.name = p.name ORDER BY p.name");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long v = rs.getLong(7);
                    Long version = rs.wasNull() ? null : v;
                    out.add(new Summary(rs.getString(1), Kind.valueOf(rs.getString(2).toUpperCase(java.util.Locale.ROOT)),
                            rs.getString(3), rs.getLong(4), Sql.getInstant(rs, "added_at"),
                            "central".equals(rs.getString(6)) ? "central" : "local", version));
                }
            }
            return out;
        });
    }

    /** The device's labels, sorted (node selectors {@code outpost:label:<label>}). */
    public java.util.List<String> labels(String deviceId) {
        return db.inTransaction(c -> {
            java.util.List<String> out = new java.util.ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT label FROM device_labels WHERE device_id = ? ORDER BY label")) {
                ps.setString(1, deviceId);
                try (java.sql.ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(rs.getString(1));
                    }
                }
            }
            return out;
        });
    }

    /** Assigns a policy to {@code device:<id>} or {@code label:<label>}; the policy must exist and be of that kind. */
    public void assign(String target, String policyName) {
        Policy p = get(policyName).orElseThrow(() -> new IllegalArgumentException("no policy named " + policyName));
        db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "MERGE INTO policy_assignments (target, kind, policy_name) KEY (target, kind) VALUES (?, ?, ?)")) {
                ps.setString(1, target);
                ps.setString(2, p.kind().db());
                ps.setString(3, policyName);
                ps.executeUpdate();
            }
            return null;
        });
        changed();
    }

    public void label(String deviceId, String label) {
        if (!validName(label)) {
            throw new IllegalArgumentException("label must be 1-64 letters, digits, '.', '_' or '-'");
        }
        db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "MERGE INTO device_labels (device_id, label) KEY (device_id, label) VALUES (?, ?)")) {
                ps.setString(1, Sql.requireHex64(deviceId, "device id"));
                ps.setString(2, label);
                ps.executeUpdate();
            }
            return null;
        });
        changed();
    }

    /** Forgets cached answers: after every write, and after a caller's transaction wrote through the methods above. */
    public void changed() {
        generation.incrementAndGet();
        resolved.clear();
        byName.clear();
    }

    private <T> Optional<T> cached(Map<String, Optional<T>> cache, String key, Supplier<Optional<T>> read) {
        Optional<T> v = cache.get(key);
        if (v != null) {
            return v;
        }
        long before = generation.get();
        Optional<T> read1 = read.get();
        // The check and the insert under the key's lock, which changed()'s clear takes too: checked first and put
        // after, a change in between (counted and cleared) left the answer from before it cached until the next one.
        cache.compute(key, (k, current) -> generation.get() == before ? read1 : current);
        return read1;
    }

    /** The name of the policy of this kind that applies to the device, if any. */
    public Optional<String> resolve(String deviceId, Kind kind) {
        return cached(resolved, kind.db() + ":" + deviceId, () -> lookUp(deviceId, kind));
    }

    /**
     * {@link #resolve} when its answer is in memory, without going to the database; null (not an empty Optional,
     * which means no policy is assigned) when it is not.
     */
    public Optional<String> resolvedInMemory(String deviceId, Kind kind) {
        return resolved.get(kind.db() + ":" + deviceId);
    }

    private Optional<String> lookUp(String deviceId, Kind kind) {
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT policy_name FROM policy_assignments WHERE kind = ? AND (target = ? OR target IN "
                            + "(SELECT 'label:' || label FROM device_labels WHERE device_id = ?)) "
                            + "ORDER BY CASE WHEN target LIKE 'device:%' THEN 0 ELSE 1 END, target LIMIT 1")) {
                ps.setString(1, kind.db());
                ps.setString(2, "device:" + deviceId);
                ps.setString(3, deviceId);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
                }
            }
        });
    }
}
