package dev.outpost.appliance.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.spiffe.KeyFiles;

/**
 * What a data directory holds of a site: the database ({@code outpost.mv.db}) and the CA ({@code ca/ca.key},
 * {@code ca/ca.crt}). A new site starts with neither. Once devices hold identities, losing either is not a reason
 * to make a new one: an empty database forgets every device, its enrollment, policies and audit; a new CA is one
 * no device trusts. The appliance then refuses to start, names what is missing and the two ways out: restore
 * from a backup, or {@code outpost-appliance reset}, which moves the remains aside so the next start is a new site.
 */
public final class SiteDirectory {
    public static final String DB_FILE = Database.FILE_NAME + ".mv.db";
    public static final String CA_DIR = "ca";
    /** Named like the database's files, so reset moves it aside with them. */
    public static final String MARKER = Database.FILE_NAME + ".site";

    private final Path dataDir;
    private final Path caDir;

    public SiteDirectory(Path dataDir, Path caDir) {
        this.dataDir = dataDir.toAbsolutePath().normalize();
        this.caDir = caDir.toAbsolutePath().normalize();
    }

    public Path databaseFile() {
        return dataDir.resolve(DB_FILE);
    }

    /** {@code ca/ca.key}, or {@code ca/ca.key.sealed} when the key is sealed to the TPM (ca.keyProtection: tpm). */
    public Path caKey() {
        Path plain = caDir.resolve(SiteCa.KEY_FILE);
        Path sealed = caDir.resolve(SiteCa.KEY_FILE + dev.outpost.appliance.ca.CaKeys.SEALED_SUFFIX);
        return Files.exists(plain) || !Files.exists(sealed) ? plain : sealed;
    }

    public Path caCert() {
        return caDir.resolve(SiteCa.CERT_FILE);
    }

    /** The files of a site this directory lacks, among those it has some of; empty for a new or whole site. */
    public List<Path> missing() {
        return isNew() ? List.of() : absent(databaseFile(), caKey(), caCert());
    }

    public boolean isNew() {
        return !Files.exists(marker()) && !Files.exists(databaseFile()) && !Files.exists(caKey()) && !Files.exists(caCert());
    }

    /** Written once the site has run with its database and CA: from then on, losing either is refused. */
    public Path marker() {
        return dataDir.resolve(MARKER);
    }

    /**
     * Opens the database for {@code run}, or refuses with {@link IncompleteSite} when the directory shows the site
     * existed and part of it is gone: the marker is there but the database or a CA file is not, or the database holds
     * SVIDs but a CA file is gone. Without the marker, a CA alone is one provisioned before the first start (external
     * broker mode: the broker's certificate comes from it), and a database alone without SVIDs is what a first start
     * that died before making the CA leaves; both start.
     */
    public Database openForRun() {
        boolean ran = Files.exists(marker());
        if (ran && !Files.exists(databaseFile())) {
            throw refusal(absent(databaseFile(), caKey(), caCert()), "an empty database would forget every device, "
                    + "its enrollment, policies and audit, and devices would have to enroll again");
        }
        Database db = Database.open(dataDir);
        try {
            List<Path> caMissing = absent(caKey(), caCert());
            if (!caMissing.isEmpty()) {
                long issued = devicesWithSvids(db);
                if (ran || issued > 0) {
                    throw refusal(caMissing, issued + " device(s) hold identities from the site CA; a new CA is one "
                            + "none of them (nor a broker whose certificate it signed) trusts, so they would be cut off");
                }
            }
            return db;
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    /** Records that the site runs with this database and CA (once; what it names helps whoever finds the directory). */
    public void markRunning(String trustDomain, String site, java.security.cert.X509Certificate ca, Instant now) {
        if (Files.exists(marker())) {
            return;
        }
        String caFingerprint;
        try {
            caFingerprint = java.util.HexFormat.of().formatHex(
                    java.security.MessageDigest.getInstance("SHA-256").digest(ca.getEncoded()));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
        String text = "# Outpost site data directory: the appliance refuses to start if the database or the CA\n"
                + "# next to this file goes missing (see `outpost-appliance reset --help`).\n"
                + "trustDomain=" + trustDomain + "\nsite=" + site + "\ncaSha256=" + caFingerprint + "\nsince=" + now + "\n";
        try {
            dev.outpost.spiffe.KeyFiles.writePrivate(marker(), text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new StoreException("cannot write " + marker() + ": " + e.getMessage(), e);
        }
    }

    private static List<Path> absent(Path... files) {
        List<Path> out = new ArrayList<>();
        for (Path p : files) {
            if (!Files.exists(p)) {
                out.add(p);
            }
        }
        return out;
    }

    private static long devicesWithSvids(Database db) {
        return db.inTransaction(c -> {
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT COUNT(DISTINCT device_id) FROM svids")) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    private IncompleteSite refusal(List<Path> missing, String consequence) {
        return new IncompleteSite("refusing to start: the data directory " + dataDir + " holds a site but "
                + String.join(" and ", missing.stream().map(Path::toString).toList())
                + (missing.size() == 1 ? " is" : " are") + " missing; " + consequence + ". Put the missing files "
                + "back, restore the site from a backup (outpost-appliance restore --from FILE --data-dir " + dataDir
                + " --force), or start a new site that every device must enroll in again (outpost-appliance reset "
                + "--data-dir " + dataDir + ")", missing);
    }

    /**
     * Starts over: moves the database files and the CA directory into {@code discarded-<time>/} inside the data
     * directory (nothing is deleted: the old CA key may still be wanted) and returns that directory. Refuses while an
     * appliance has the database open.
     */
    public Path discard(Instant now) throws IOException {
        if (inUse()) {
            throw new IOException("the database " + databaseFile() + " is in use: stop the appliance first");
        }
        Path target = dataDir.resolve("discarded-" + DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
                .withZone(ZoneOffset.UTC).format(now));
        Files.createDirectory(target, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dataDir, Database.FILE_NAME + ".*")) {
            for (Path f : files) {
                Files.move(f, target.resolve(f.getFileName()));
            }
        }
        if (Files.exists(caDir)) {
            Files.move(caDir, target.resolve(CA_DIR));
        }
        return target;
    }

    /** Whether an appliance (this process or another) holds the database open: H2 locks the file while it does. */
    public boolean inUse() throws IOException {
        if (!Files.exists(databaseFile())) {
            return false;
        }
        try (FileChannel ch = FileChannel.open(databaseFile(), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            FileLock lock = ch.tryLock();
            if (lock == null) {
                return true;
            }
            lock.release();
            return false;
        } catch (OverlappingFileLockException e) {
            return true;
        }
    }

    /** Start-up refused: the directory shows a site existed and lacks part of it. */
    public static final class IncompleteSite extends StoreException {
        private final transient List<Path> missing;

        IncompleteSite(String message, List<Path> missing) {
            super(message);
            this.missing = List.copyOf(missing);
        }

        public List<Path> missing() {
            return missing;
        }
    }
}
