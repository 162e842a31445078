package dev.outpost.appliance.store;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * EK hashes allowed to enroll. Entries come from the admin CLI ({@code cli}) or mirror an allow-list directory
 * ({@code dir}) laid out like the SPIRE TPM plugin's: one file per allowed EK, named by the EK hash (lowercase
 * hex SHA-256 of the EK's DER SubjectPublicKeyInfo, which is also our device id), so existing lists carry over.
 */
public final class AllowListStore {
    private static final Logger LOG = LoggerFactory.getLogger(AllowListStore.class);
    /** A directory far bigger than any site's device count is a mistake or an attack; refuse to mirror it. */
    public static final int MAX_DIRECTORY_ENTRIES = 100_000;

    public enum Source {
        CLI("cli"), DIR("dir");

        final String db;

        Source(String db) {
            this.db = db;
        }

        static Source fromDb(String v) {
            return v.equals("cli") ? CLI : DIR;
        }
    }

    public record Entry(String ekHash, Source source, String note, Instant addedAt) {
    }

    public record SyncResult(int added, int removed, int ignored) {
    }

    private final Database db;
    private final Clock clock;

    public AllowListStore(Database db) {
        this(db, Clock.systemUTC());
    }

    public AllowListStore(Database db, Clock clock) {
        this.db = db;
        this.clock = clock;
    }

    /** Adds or replaces an entry. */
    public void add(String hash, Source source, String note) {
        Sql.requireHex64(hash, "EK hash");
        Instant now = clock.instant();
        db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "MERGE INTO allow_list (ek_hash, source, note, added_at) KEY (ek_hash) VALUES (?, ?, ?, ?)")) {
                ps.setString(1, hash);
                ps.setString(2, source.db);
                ps.setString(3, Sql.truncate(note, 1024));
                Sql.setInstant(ps, 4, now);
                ps.executeUpdate();
            }
            return null;
        });
    }

    public boolean remove(String hash) {
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM allow_list WHERE ek_hash = ?")) {
                ps.setString(1, hash);
                return ps.executeUpdate() == 1;
            }
        });
    }

    public boolean contains(String hash) {
        if (!Sql.isHex64(hash)) {
            return false;
        }
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM allow_list WHERE ek_hash = ?")) {
                ps.setString(1, hash);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next();
                }
            }
        });
    }

    public List<Entry> list() {
        return db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT ek_hash, source, note, added_at FROM allow_list ORDER BY ek_hash");
                 ResultSet rs = ps.executeQuery()) {
                List<Entry> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(new Entry(rs.getString(1), Source.fromDb(rs.getString(2)), rs.getString(3),
                            Sql.getInstant(rs, "added_at")));
                }
                return out;
            }
        });
    }

    /**
     * Makes the {@code dir} entries equal the files in {@code dir}, in one transaction; {@code cli} entries are
     * left alone (a hash listed both ways stays a {@code cli} entry). A missing directory counts as empty, so
     * deleting it withdraws its entries: the safe direction.
     */
    public SyncResult syncDirectory(Path dir) throws IOException {
        Set<String> onDisk = new HashSet<>();
        int ignored = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            int seen = 0;
            for (Path f : files) {
                if (++seen > MAX_DIRECTORY_ENTRIES) {
                    throw new IOException(dir + " holds more than " + MAX_DIRECTORY_ENTRIES + " entries; refusing to mirror it");
                }
                String name = f.getFileName().toString();
                if (!Sql.isHex64(name)) {
                    LOG.info("allow-list directory {}: ignoring {} (not a 64 lowercase hex EK hash)", dir, name);
                    ignored++;
                } else if (!Files.isRegularFile(f)) {
                    LOG.info("allow-list directory {}: ignoring {} (not a regular file)", dir, name);
                    ignored++;
                } else {
                    onDisk.add(name);
                }
            }
        } catch (NoSuchFileException e) {
            LOG.warn("allow-list directory {} does not exist: withdrawing its entries", dir);
        }
        Instant now = clock.instant();
        final int ignoredCount = ignored;
        return db.inTransaction(c -> {
            Map<String, Source> current = new HashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT ek_hash, source FROM allow_list");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    current.put(rs.getString(1), Source.fromDb(rs.getString(2)));
                }
            }
            int removed = 0;
            try (PreparedStatement del = c.prepareStatement("DELETE FROM allow_list WHERE ek_hash = ? AND source = 'dir'")) {
                for (Map.Entry<String, Source> e : current.entrySet()) {
                    if (e.getValue() == Source.DIR && !onDisk.contains(e.getKey())) {
                        del.setString(1, e.getKey());
                        removed += del.executeUpdate();
                    }
                }
            }
            int added = 0;
            try (PreparedStatement ins = c.prepareStatement(
                    "INSERT INTO allow_list (ek_hash, source, note, added_at) VALUES (?, 'dir', ?, ?)")) {
                for (String h : onDisk) {
                    if (!current.containsKey(h)) {
                        ins.setString(1, h);
                        ins.setString(2, Sql.truncate("from " + dir, 1024));
                        Sql.setInstant(ins, 3, now);
                        added += ins.executeUpdate();
                    }
                }
            }
            if (added + removed > 0) {
                LOG.info("allow-list directory {}: {} added, {} removed", dir, added, removed);
            }
            return new SyncResult(added, removed, ignoredCount);
        });
    }
}
