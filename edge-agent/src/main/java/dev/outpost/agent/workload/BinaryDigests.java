package dev.outpost.agent.workload;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * SHA-256 of executables, bounded: files over {@code maxBytes} are not hashed (their callers get no
 * {@code unix:sha256} selector), and a digest is kept per file version (device, inode, size, mtime, ctime), so a
 * hundred workloads of one big binary cost one read. The file is opened through {@code /proc/<pid>/exe}, which is the
 * very inode the process runs even if its path was replaced since; a file that changed while it was read gives no
 * digest.
 */
final class BinaryDigests {
    private static final int CACHE = 256;
    private final long maxBytes;
    private final Map<FileVersion, String> cache = new LinkedHashMap<>(16, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<FileVersion, String> eldest) {
            return size() > CACHE;
        }
    };
    private long hashed;

    BinaryDigests(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** What identifies one version of a file's content without reading it. */
    record FileVersion(long dev, long ino, long size, long mtimeNanos, long ctimeNanos) {
        static FileVersion of(Path p) throws IOException {
            Map<String, Object> a = Files.readAttributes(p, "unix:dev,ino,size,lastModifiedTime,ctime");
            return new FileVersion((Long) a.get("dev"), (Long) a.get("ino"), (Long) a.get("size"),
                    nanos(a.get("lastModifiedTime")), nanos(a.get("ctime")));
        }

        private static long nanos(Object t) {
            java.time.Instant i = ((java.nio.file.attribute.FileTime) t).toInstant();
            return i.getEpochSecond() * 1_000_000_000L + i.getNano();
        }
    }

    /** Lowercase hex SHA-256 of the file, or empty when it is too big, unreadable or changed while read. */
    Optional<String> sha256(Path file) {
        FileVersion before;
        try {
            before = FileVersion.of(file);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        synchronized (this) {
            String hit = cache.get(before);
            if (hit != null) {
                return Optional.of(hit);
            }
        }
        if (before.size() > maxBytes) {
            return Optional.empty();
        }
        String digest;
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[64 * 1024];
            long total = 0;
            for (int n; (n = in.read(buf)) > 0; ) {
                total += n;
                if (total > maxBytes) {
                    return Optional.empty();
                }
                md.update(buf, 0, n);
            }
            digest = HexFormat.of().formatHex(md.digest());
            if (!before.equals(FileVersion.of(file))) {
                return Optional.empty();
            }
        } catch (IOException | NoSuchAlgorithmException | RuntimeException e) {
            return Optional.empty();
        }
        synchronized (this) {
            cache.put(before, digest);
            hashed++;
        }
        return Optional.of(digest);
    }

    /** How many files were actually read (not served from the cache); for tests and metrics. */
    synchronized long hashed() {
        return hashed;
    }
}
