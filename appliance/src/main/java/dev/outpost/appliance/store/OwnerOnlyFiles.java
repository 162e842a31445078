package dev.outpost.appliance.store;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

import org.h2.message.DbException;
import org.h2.store.fs.FilePath;
import org.h2.store.fs.FilePathWrapper;

/**
 * An H2 file system ({@code outpost0600:/path}) that creates every file owner-only (0600): the database, its
 * trace file, temporary result files and backups hold device keys' publics, audit and policy, and a process
 * started by hand (not by the systemd unit with its UMask=0077) would otherwise leave them 0644. The file is
 * created with its mode, never chmod-ed after the fact: a reader who opened it in between would keep its handle.
 * H2's internal file-system API, pinned by the H2 version in the parent POM (like {@link Database#compactStep}).
 */
public final class OwnerOnlyFiles extends FilePathWrapper {
    public static final String SCHEME = "outpost0600";
    static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY_ATTR =
            PosixFilePermissions.asFileAttribute(OWNER_ONLY);

    static {
        FilePath.register(new OwnerOnlyFiles());
    }

    /** Registers the scheme (once per JVM) and names {@code file} in it, for JDBC URLs and BACKUP TO. */
    public static String url(Path file) {
        return SCHEME + ":" + file.toAbsolutePath().normalize();
    }

    @Override
    public String getScheme() {
        return SCHEME;
    }

    private Path path() {
        return Path.of(getBase().toString());
    }

    private void createIfAbsent() throws IOException {
        try {
            Files.createFile(path(), OWNER_ONLY_ATTR);
        } catch (FileAlreadyExistsException e) {
            // H2 opens existing files too; their mode is Database.open's business
        }
    }

    @Override
    public FileChannel open(String mode) throws IOException {
        if (!"r".equals(mode)) {
            createIfAbsent();
        }
        return super.open(mode);
    }

    @Override
    public OutputStream newOutputStream(boolean append) throws IOException {
        createIfAbsent();
        return super.newOutputStream(append);
    }

    @Override
    public boolean createFile() {
        try {
            Files.createFile(path(), OWNER_ONLY_ATTR);
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        } catch (IOException e) {
            throw DbException.convertIOException(e, name);
        }
    }

    @Override
    public FilePath createTempFile(String suffix, boolean inTempDir) throws IOException {
        Path p = path();
        Path dir = inTempDir ? Path.of(System.getProperty("java.io.tmpdir")) : p.toAbsolutePath().getParent();
        // The name keeps H2's shape (<db>.<random><suffix>) so H2 still finds and deletes stale temp files at open.
        Path created = Files.createTempFile(dir, p.getFileName() + ".", suffix, OWNER_ONLY_ATTR);
        return getPath(url(created));
    }

    /**
     * Files an older appliance (or H2 before this scheme) created with the umask's mode: narrowed at open so an
     * upgraded site ends up like a new one.
     */
    static void narrowExisting(Path dir, String baseName) throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, baseName + ".*")) {
            for (Path f : files) {
                if (Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)
                        && !Files.getPosixFilePermissions(f, LinkOption.NOFOLLOW_LINKS).equals(OWNER_ONLY)) {
                    Files.setPosixFilePermissions(f, OWNER_ONLY);
                }
            }
        }
    }
}
