package dev.outpost.appliance.store;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.Enumeration;
import java.util.UUID;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Makes a {@link SiteArchive} of the running site: H2's online backup of the database (consistent, writers go on)
 * plus the CA files, which never change while the appliance runs. The archive is built in the data directory (same
 * file system, private to the service user) and handed to the caller, who streams it and deletes it.
 * Blocking: call from a worker.
 */
public final class SiteBackup {
    private static final String PREFIX = ".backup-";

    private final Database db;
    private final Path dataDir;
    private final Path caDir;
    private final String trustDomain;
    private final String site;
    private final AuditLog audit;
    private final Clock clock;

    public SiteBackup(Database db, Path dataDir, Path caDir, String trustDomain, String site, AuditLog audit, Clock clock) {
        this.db = db;
        this.dataDir = dataDir;
        this.caDir = caDir;
        this.trustDomain = trustDomain;
        this.site = site;
        this.audit = audit;
        this.clock = clock;
    }

    /** Archives a crash in the middle of a backup left behind: each is as large as the database. */
    public int removeLeftovers() throws IOException {
        int n = 0;
        try (DirectoryStream<Path> left = Files.newDirectoryStream(dataDir, PREFIX + "*")) {
            for (Path p : left) {
                Files.deleteIfExists(p);
                n++;
            }
        }
        return n;
    }

    /** Writes the archive to a new 0600 file in the data directory and returns it; the caller deletes it. */
    public Path archive() throws IOException {
        String id = UUID.randomUUID().toString();
        Path zip = dataDir.resolve(PREFIX + id + ".zip");
        Path out = dataDir.resolve(PREFIX + id + ".tar.gz");
        try {
            db.backupTo(zip);
            try (ZipFile z = new ZipFile(zip.toFile());
                 OutputStream o = Files.newOutputStream(Files.createFile(out,
                         PosixFilePermissions.asFileAttribute(OwnerOnlyFiles.OWNER_ONLY)))) {
                ZipEntry data = null;
                for (Enumeration<? extends ZipEntry> e = z.entries(); e.hasMoreElements(); ) {
                    ZipEntry entry = e.nextElement();
                    if (entry.getName().endsWith(".mv.db")) {
                        data = entry;
                    }
                }
                if (data == null || data.getSize() < 0) {
                    throw new IOException("H2's backup of " + db.file() + " holds no database file");
                }
                SiteArchive.write(o, z.getInputStream(data), data.getSize(), caDir, clock.instant(), trustDomain, site);
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(out);
            throw e;
        } finally {
            Files.deleteIfExists(zip);
        }
        audit.record(AuditEvent.of(clock.instant(), null, "backup", AuditEvent.Decision.INFO,
                "site backup taken (" + Files.size(out) + " bytes, CA key included)", "operator"));
        return out;
    }
}
