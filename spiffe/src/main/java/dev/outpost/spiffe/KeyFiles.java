package dev.outpost.spiffe;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;

/**
 * Files that must never be seen half written or by anyone but the service user. A crash mid-write leaves
 * either the old file or the new one: we write a temp file created 0600 (never briefly wider), fsync it,
 * rename it over the target and fsync the directory so the rename itself survives power loss.
 */
public final class KeyFiles {
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> WORLD_READABLE = PosixFilePermissions.fromString("rw-r--r--");
    private static final Set<PosixFilePermission> GROUP_OR_OTHER = EnumSet.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private KeyFiles() {
    }

    /** A secret: mode 0600. */
    public static void writePrivate(Path target, byte[] content) throws IOException {
        write(target, content, OWNER_ONLY);
    }

    /** A certificate or bundle: mode 0644, still atomic so readers never see a torn file. */
    public static void writePublic(Path target, byte[] content) throws IOException {
        write(target, content, WORLD_READABLE);
    }

    /**
     * Reads a secret, refusing it when group or others have any access: a key others could read must be
     * considered leaked, and silently using it would hide that.
     */
    public static byte[] readPrivate(Path file, int maxBytes) throws IOException {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
        Set<PosixFilePermission> extra = EnumSet.noneOf(PosixFilePermission.class);
        extra.addAll(perms);
        extra.retainAll(GROUP_OR_OTHER);
        if (!extra.isEmpty()) {
            throw new IOException(file + " has mode " + PosixFilePermissions.toString(perms)
                    + ": group/others may access it; refusing the key (chmod 600 it if it was not exposed, else replace it)");
        }
        return readLimited(file, maxBytes);
    }

    public static byte[] readLimited(Path file, int maxBytes) throws IOException {
        long size = Files.size(file);
        if (size > maxBytes) {
            throw new IOException(file + " is " + size + " bytes, over the " + maxBytes + " byte limit");
        }
        return Files.readAllBytes(file);
    }

    private static void write(Path target, byte[] content, Set<PosixFilePermission> perms) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp",
                PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(content);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            Files.setPosixFilePermissions(tmp, perms);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot replace " + target + " atomically: " + e.getMessage(), e);
            }
            syncDirectory(dir);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void syncDirectory(Path dir) {
        // Linux lets a directory be opened read-only and fsynced; other systems may refuse, which costs
        // only durability of the rename, not correctness.
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // best effort, see above
        }
    }
}
