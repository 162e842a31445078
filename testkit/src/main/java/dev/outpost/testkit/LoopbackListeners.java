package dev.outpost.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Whether a given process is the one listening on a TCP port, read from {@code /proc}.
 *
 * <p>Why not just connect: a probed-free port can be taken by someone else before the child binds it. The child
 * then exits on its bind error, but a connect to the port still succeeds (to the other listener), or succeeds on
 * the first of two ports a child binds before it dies on the second. Tests then fail later with "connection
 * refused", far from the cause. Matching the listening socket's inode against the child's descriptors cannot be
 * fooled that way.
 */
final class LoopbackListeners {
    private static final String LISTEN = "0A";

    private LoopbackListeners() {
    }

    /** False where /proc cannot tell (not Linux, or hidden): callers then fall back to connecting. */
    static boolean available() {
        return Files.isReadable(Path.of("/proc/net/tcp")) && Files.isReadable(Path.of("/proc/self/fd"));
    }

    /** True when {@code pid} holds a socket listening on {@code port} (IPv4 or IPv6, any local address). */
    static boolean heldBy(long pid, int port) {
        Set<String> inodes = new HashSet<>();
        inodes.addAll(listening(Path.of("/proc/net/tcp"), port));
        inodes.addAll(listening(Path.of("/proc/net/tcp6"), port));
        if (inodes.isEmpty()) {
            return false;
        }
        try (var fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                String target = readLink(fd);
                if (target.startsWith("socket:[") && inodes.contains(target.substring(8, target.length() - 1))) {
                    return true;
                }
            }
        } catch (IOException e) {
            return false; // the process is gone, or not ours to read
        }
        return false;
    }

    private static Set<String> listening(Path table, int port) {
        if (!Files.isReadable(table)) {
            return Set.of();
        }
        String portHex = String.format(Locale.ROOT, ":%04X", port);
        Set<String> inodes = new HashSet<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(table);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
            String[] f = line.trim().split("\\s+");
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
            if (f.length > 9 && f[1].endsWith(portHex) && f[3].equals(LISTEN)) {
                inodes.add(f[9]);
            }
        }
        return inodes;
    }

    private static String readLink(Path fd) {
        try {
            return Files.readSymbolicLink(fd).toString();
        } catch (IOException e) {
            return ""; // closed between the listing and the read
        }
    }
}
