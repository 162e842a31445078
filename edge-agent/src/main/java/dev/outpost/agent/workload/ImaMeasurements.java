package dev.outpost.agent.workload;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;

/**
 * Whether the device's own IMA list holds a measurement of a file path with a given SHA-256 (the {@code ima:verified}
 * selector; the appliance then checks its runtime policy allows that digest). Only the paths asked about are indexed
 * (at most {@link #MAX_PATHS}); the list is read incrementally from where the last read stopped, since the kernel
 * only appends, and from the start when a new path is first asked about. Entries whose file digest is not SHA-256
 * (the legacy {@code ima} template, {@code ima_hash=sha1}) cannot vouch for a SHA-256 and are skipped.
 */
final class ImaMeasurements {
    static final int MAX_PATHS = 256;
    private static final long MAX_LIST = 64L * 1024 * 1024;
    private static final int MAX_TEMPLATE_DATA = 1 << 20;
    private static final byte[] SHA256_PREFIX = "sha256:\0".getBytes(StandardCharsets.US_ASCII);

    private final Path list;
    private final long minRescanNanos;
    private final Map<String, Set<String>> digests = new HashMap<>();
    private long offset;
    private long lastScan;
    private boolean scanned;

    ImaMeasurements(Path list, java.time.Duration minRescan) {
        this.list = list;
        this.minRescanNanos = minRescan.toNanos();
    }

    synchronized boolean measured(String path, String sha256Hex) {
        Set<String> known = digests.get(path);
        if (known != null && known.contains(sha256Hex)) {
            return true;
        }
        if (known != null && scanned && System.nanoTime() - lastScan < minRescanNanos) {
            return false;
        }
        lastScan = System.nanoTime();
        scanned = true;
        try {
            if (!digests.containsKey(path)) {
                if (digests.size() >= MAX_PATHS) {
                    return false;
                }
                digests.put(path, new HashSet<>());
                offset = 0;
                digests.values().forEach(Set::clear);
            }
            scan();
        } catch (IOException | RuntimeException e) {
            // A list we cannot read vouches for nothing; start over next time.
            offset = 0;
            digests.values().forEach(Set::clear);
            return false;
        }
        return digests.get(path).contains(sha256Hex);
    }

    private void scan() throws IOException {
        if (!Files.exists(list)) {
            return;
        }
        try (DataInputStream in = new DataInputStream(Files.newInputStream(list))) {
            if (skip(in, offset) < offset) {
                // Shorter than what we read before: a new boot's list. Index it from the start.
                offset = 0;
                digests.values().forEach(Set::clear);
                scan();
                return;
            }
            while (true) {
                if (offset > MAX_LIST) {
                    throw new IOException("IMA list over " + MAX_LIST + " bytes");
                }
                byte[] header = new byte[4 + 20 + 4];
                int got = in.readNBytes(header, 0, header.length);
                if (got == 0) {
                    return;
                }
                if (got < header.length) {
                    return; // an entry being appended; read it next time
                }
                int nameLen = le(header, 24);
                if (nameLen < 1 || nameLen > 15) {
                    throw new IOException("IMA list: template name length " + nameLen);
                }
                String template = new String(in.readNBytes(nameLen), StandardCharsets.US_ASCII);
                if (template.equals("ima")) {
                    in.readNBytes(20);
                    int n = le(in.readNBytes(4), 0);
                    bounded(n);
                    in.readNBytes(n);
                    offset += header.length + nameLen + 24 + n;
                    continue;
                }
                byte[] len = in.readNBytes(4);
                if (len.length < 4) {
                    return;
                }
                int n = le(len, 0);
                bounded(n);
                byte[] data = in.readNBytes(n);
                if (data.length < n) {
                    return;
                }
                offset += header.length + nameLen + 4 + n;
                index(data);
            }
        } catch (EOFException e) {
            // the list ended inside an entry: stop where the last whole entry ended
        }
    }

    // ima-ng, ima-sig, ima-modsig: [len][algo:\0 digest][len][path\0]...
    private void index(byte[] data) {
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < 4) {
            return;
        }
        int dlen = b.getInt();
        if (dlen != SHA256_PREFIX.length + 32 || b.remaining() < dlen + 4) {
            return;
        }
        byte[] d = new byte[dlen];
        b.get(d);
        for (int i = 0; i < SHA256_PREFIX.length; i++) {
            if (d[i] != SHA256_PREFIX[i]) {
                return;
            }
        }
        int plen = b.getInt();
        if (plen < 1 || plen > b.remaining()) {
            return;
        }
        byte[] p = new byte[plen];
        b.get(p);
        String path = new String(p, 0, p[plen - 1] == 0 ? plen - 1 : plen, StandardCharsets.UTF_8);
        Set<String> set = digests.get(path);
        if (set != null) {
            set.add(HexFormat.of().formatHex(d, SHA256_PREFIX.length, dlen));
        }
    }

    private static void bounded(int n) throws IOException {
        if (n < 0 || n > MAX_TEMPLATE_DATA) {
            throw new IOException("IMA list: template data length " + n);
        }
    }

    private static int le(byte[] b, int at) throws EOFException {
        if (b.length < at + 4) {
            throw new EOFException();
        }
        return ByteBuffer.wrap(b, at, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    // securityfs files cannot seek: skipping is reading.
    private static long skip(InputStream in, long n) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long done = 0;
        while (done < n) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, n - done));
            if (r < 0) {
                break;
            }
            done += r;
        }
        return done;
    }
}
