package dev.outpost.appliance.store;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A site backup: a gzip-compressed tar (readable with {@code tar -tzvf}) of the database, the CA key and the CA
 * certificate, then {@code outpost-backup.json} with each file's size and SHA-256. Tar rather than zip because tar
 * keeps each file's mode: the CA key and the database are {@code -rw-------} inside the archive and come back so.
 * The archive itself holds the site CA's private key: whoever reads it can issue identities for the site, so it is
 * written 0600 and belongs wherever the key itself would be allowed.
 *
 * <p>Reading checks everything before anything is used: the gzip and tar checksums, the exact set of entries, their
 * sizes, and every SHA-256 against the manifest, which comes last so writing needs one pass.
 */
public final class SiteArchive {
    public static final String MANIFEST = "outpost-backup.json";
    public static final String DB_ENTRY = SiteDirectory.DB_FILE;
    public static final String KEY_ENTRY = "ca/ca.key";
    /** The key sealed to the gateway's TPM (ca.keyProtection: tpm), carried as it is: it restores on that TPM only. */
    public static final String SEALED_KEY_ENTRY = "ca/ca.key.sealed";
    public static final String CERT_ENTRY = "ca/ca.crt";
    /**
     * CA files a site may have besides the key and certificate: a nested CA's roots (without them its SVIDs verify
     * against nothing devices hold), after a rotation the previous CA's (its SVIDs are still out), and the JWT
     * authority's key (plain or sealed) with its retired keys (without them a restored site makes a new JWT key and
     * JWT-SVIDs already out stop validating).
     */
    static final List<String> OPTIONAL_CA_ENTRIES = List.of("ca/upstream-roots.pem", "ca/previous.crt",
            "ca/previous-roots.pem", "ca/jwt.key", "ca/jwt.key.sealed", "ca/jwt-retired.json");
    /** 1: database, key, certificate. 2: also any of {@link #OPTIONAL_CA_ENTRIES}; written only when there are some. */
    static final int FORMAT = 1;
    static final int FORMAT_WITH_CA_EXTRAS = 2;
    /** 3: the key is {@link #SEALED_KEY_ENTRY}; older versions refuse it by its format rather than misread it. */
    static final int FORMAT_SEALED = 3;
    private static final int OWNER_ONLY = 0600;
    private static final int PUBLIC = 0644;
    private static final int BLOCK = 512;
    private static final long MAX_SMALL = 1 << 20;
    /** The ustar size field: 11 octal digits. */
    private static final long MAX_ENTRY = 077777777777L;
    private static final ObjectMapper JSON = new ObjectMapper();

    private SiteArchive() {
    }

    /** What a verified archive says about itself. */
    public record Manifest(Instant createdAt, String trustDomain, String site, long databaseBytes) {
    }

    /** Writes the archive: the database from {@code db} (size known), the CA files from {@code caDir}. */
    public static void write(OutputStream out, InputStream db, long dbSize, Path caDir, Instant createdAt,
            String trustDomain, String site) throws IOException {
        GZIPOutputStream gz = new GZIPOutputStream(out, 64 * 1024);
        Map<String, String> hashes = new LinkedHashMap<>();
        Map<String, Long> sizes = new LinkedHashMap<>();
        entry(gz, DB_ENTRY, OWNER_ONLY, dbSize, createdAt, db, hashes, sizes);
        boolean sealed = !Files.exists(caDir.resolve("ca.key")) && Files.exists(caDir.resolve("ca.key.sealed"));
        String keyEntry = sealed ? SEALED_KEY_ENTRY : KEY_ENTRY;
        List<String> names = new ArrayList<>(List.of(keyEntry, CERT_ENTRY));
        for (String extra : OPTIONAL_CA_ENTRIES) {
            if (Files.exists(caDir.resolve(extra.substring("ca/".length())))) {
                names.add(extra);
            }
        }
        for (String name : names) {
            Path f = caDir.resolve(name.substring("ca/".length()));
            try (InputStream in = Files.newInputStream(f, LinkOption.NOFOLLOW_LINKS)) {
                boolean secret = name.equals(keyEntry) || name.endsWith(".key") || name.endsWith(".sealed");
                entry(gz, name, secret ? OWNER_ONLY : PUBLIC, Files.size(f), createdAt, in, hashes, sizes);
            }
        }
        ObjectNode m = JSON.createObjectNode();
        m.put("format", sealed ? FORMAT_SEALED : names.size() > 2 ? FORMAT_WITH_CA_EXTRAS : FORMAT).put("createdAt", createdAt.toString()).put("trustDomain", trustDomain).put("site", site);
        ArrayNode files = m.putArray("files");
        hashes.forEach((name, hash) -> files.addObject().put("name", name).put("size", sizes.get(name)).put("sha256", hash));
        byte[] manifest = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(m);
        entry(gz, MANIFEST, PUBLIC, manifest.length, createdAt, new java.io.ByteArrayInputStream(manifest), null, null);
        gz.write(new byte[2 * BLOCK]);
        gz.finish();
        gz.flush();
    }

    private static void entry(OutputStream out, String name, int mode, long size, Instant mtime, InputStream content,
            Map<String, String> hashes, Map<String, Long> sizes) throws IOException {
        if (size > MAX_ENTRY) {
            throw new IOException(name + " is " + size + " bytes, over the 8 GiB a tar entry can hold");
        }
        out.write(header(name, mode, size, mtime.getEpochSecond()));
        MessageDigest sha = sha256();
        byte[] buf = new byte[64 * 1024];
        long left = size;
        while (left > 0) {
            int n = content.read(buf, 0, (int) Math.min(buf.length, left));
            if (n < 0) {
                throw new IOException(name + " ended " + left + " bytes early while it was being archived");
            }
            sha.update(buf, 0, n);
            out.write(buf, 0, n);
            left -= n;
        }
        int pad = (int) ((BLOCK - size % BLOCK) % BLOCK);
        out.write(new byte[pad]);
        if (hashes != null) {
            hashes.put(name, HexFormat.of().formatHex(sha.digest()));
            sizes.put(name, size);
        }
    }

    private static byte[] header(String name, int mode, long size, long mtime) {
        byte[] h = new byte[BLOCK];
        put(h, 0, 100, name.getBytes(StandardCharsets.US_ASCII));
        octal(h, 100, 8, mode);
        octal(h, 108, 8, 0);
        octal(h, 116, 8, 0);
        octal(h, 124, 12, size);
        octal(h, 136, 12, mtime);
        h[156] = '0';
        put(h, 257, 6, "ustar\0".getBytes(StandardCharsets.US_ASCII));
        put(h, 263, 2, "00".getBytes(StandardCharsets.US_ASCII));
        put(h, 265, 32, "outpost".getBytes(StandardCharsets.US_ASCII));
        put(h, 297, 32, "outpost".getBytes(StandardCharsets.US_ASCII));
        java.util.Arrays.fill(h, 148, 156, (byte) ' ');
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        byte[] chk = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
        put(h, 148, 8, chk);
        return h;
    }

    private static void put(byte[] h, int at, int len, byte[] v) {
        System.arraycopy(v, 0, h, at, Math.min(len, v.length));
    }

    private static void octal(byte[] h, int at, int len, long v) {
        put(h, at, len, (String.format("%0" + (len - 1) + "o", v) + "\0").getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * Checks the archive and unpacks it into {@code staging} (an empty directory): {@code outpost.mv.db},
     * {@code ca/ca.key} (0600) and {@code ca/ca.crt}. Throws {@link Damaged} naming what is wrong, having used
     * nothing; the caller removes {@code staging} then.
     */
    public static Manifest extract(Path archive, Path staging) throws IOException {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(archive), 64 * 1024)) {
            return extract(new GZIPInputStream(raw, 64 * 1024), staging, archive.toString());
        } catch (java.util.zip.ZipException | EOFException e) {
            throw new Damaged(archive + ": the compressed stream is damaged or cut short (" + e.getMessage() + ")");
        }
    }

    private static Manifest extract(InputStream in, Path staging, String source) throws IOException {
        Map<String, String> hashes = new LinkedHashMap<>();
        Map<String, Long> sizes = new LinkedHashMap<>();
        byte[] manifest = null;
        Files.createDirectory(staging.resolve("ca"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        while (true) {
            byte[] h = in.readNBytes(BLOCK);
            if (h.length < BLOCK) {
                throw new Damaged(source + ": cut short (no end-of-archive marker)");
            }
            if (isZero(h)) {
                // Read to the end so GZIPInputStream checks its CRC and length trailer too.
                in.readNBytes(BLOCK);
                if (in.read() != -1) {
                    throw new Damaged(source + ": data after the end of the archive: not an Outpost site backup");
                }
                break;
            }
            checkHeader(h, source);
            String name = text(h, 0, 100);
            long size = parseOctal(h, 124, 12, source);
            if (hashes.containsKey(name) || (manifest != null)) {
                throw new Damaged(source + ": unexpected entry " + name + (manifest != null ? " after the manifest" : " twice"));
            }
            if (name.equals(MANIFEST)) {
                if (size > MAX_SMALL) {
                    throw new Damaged(source + ": manifest of " + size + " bytes");
                }
                manifest = readFully(in, (int) size, source);
            } else if (name.equals(DB_ENTRY) || name.equals(KEY_ENTRY) || name.equals(SEALED_KEY_ENTRY) || name.equals(CERT_ENTRY)
                    || OPTIONAL_CA_ENTRIES.contains(name)) {
                if (!name.equals(DB_ENTRY) && size > MAX_SMALL) {
                    throw new Damaged(source + ": " + name + " of " + size + " bytes cannot be a CA file");
                }
                Path target = staging.resolve(name);
                MessageDigest sha = sha256();
                try (OutputStream out = Files.newOutputStream(Files.createFile(target,
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))))) {
                    copy(new DigestInputStream(in, sha), out, size, source, name);
                }
                hashes.put(name, HexFormat.of().formatHex(sha.digest()));
                sizes.put(name, size);
            } else {
                throw new Damaged(source + ": unexpected entry " + show(name) + ": not an Outpost site backup");
            }
            in.skipNBytes((BLOCK - size % BLOCK) % BLOCK);
        }
        if (manifest == null) {
            throw new Damaged(source + ": no " + MANIFEST + ": not an Outpost site backup, or cut short");
        }
        JsonNode m = JSON.readTree(manifest);
        int format = m.path("format").asInt();
        if (format != FORMAT && format != FORMAT_WITH_CA_EXTRAS && format != FORMAT_SEALED) {
            throw new Damaged(source + ": backup format " + m.path("format") + ", this version reads " + FORMAT
                    + ", " + FORMAT_WITH_CA_EXTRAS + " and " + FORMAT_SEALED);
        }
        Map<String, JsonNode> listed = new LinkedHashMap<>();
        m.path("files").forEach(f -> listed.put(f.path("name").asText(), f));
        List<String> problems = new ArrayList<>();
        List<String> expected = new ArrayList<>(List.of(DB_ENTRY,
                format == FORMAT_SEALED ? SEALED_KEY_ENTRY : KEY_ENTRY, CERT_ENTRY));
        for (String extra : OPTIONAL_CA_ENTRIES) {
            if (listed.containsKey(extra) || hashes.containsKey(extra)) {
                expected.add(extra);
            }
        }
        for (String name : expected) {
            JsonNode f = listed.get(name);
            if (f == null || !hashes.containsKey(name)) {
                problems.add(name + " missing");
            } else if (f.path("size").asLong(-1) != sizes.get(name)
                    || !f.path("sha256").asText().equals(hashes.get(name))) {
                problems.add(name + " does not match its SHA-256 in the manifest");
            }
        }
        for (String name : hashes.keySet()) {
            if (!expected.contains(name)) {
                problems.add(name + " does not belong in a backup of format " + format);
            }
        }
        if (!problems.isEmpty()) {
            throw new Damaged(source + ": " + String.join("; ", problems));
        }
        return new Manifest(Instant.parse(m.path("createdAt").asText()), m.path("trustDomain").asText(),
                m.path("site").asText(), sizes.get(DB_ENTRY));
    }

    private static void checkHeader(byte[] h, String source) throws Damaged {
        long sum = 0;
        for (int i = 0; i < BLOCK; i++) {
            sum += (i >= 148 && i < 156) ? ' ' : h[i] & 0xff;
        }
        if (parseOctal(h, 148, 8, source) != sum) {
            throw new Damaged(source + ": a tar header's checksum does not match: damaged, or not a tar archive");
        }
        if (h[156] != '0' && h[156] != 0) {
            throw new Damaged(source + ": entry " + show(text(h, 0, 100)) + " is not a regular file");
        }
    }

    private static void copy(InputStream in, OutputStream out, long size, String source, String name) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long left = size;
        while (left > 0) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (n < 0) {
                throw new Damaged(source + ": cut short inside " + name);
            }
            out.write(buf, 0, n);
            left -= n;
        }
    }

    private static byte[] readFully(InputStream in, int size, String source) throws IOException {
        byte[] b = in.readNBytes(size);
        if (b.length < size) {
            throw new Damaged(source + ": cut short inside " + MANIFEST);
        }
        return b;
    }

    private static boolean isZero(byte[] h) {
        for (byte b : h) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    private static String text(byte[] h, int at, int len) {
        int end = at;
        while (end < at + len && h[end] != 0) {
            end++;
        }
        return new String(h, at, end - at, StandardCharsets.US_ASCII);
    }

    private static long parseOctal(byte[] h, int at, int len, String source) throws Damaged {
        String s = text(h, at, len).trim();
        try {
            return Long.parseLong(s, 8);
        } catch (NumberFormatException e) {
            throw new Damaged(source + ": a tar header holds " + show(s) + " where a number belongs: damaged");
        }
    }

    private static String show(String s) {
        return "'" + s.replaceAll("[^\\x20-\\x7e]", "?") + "'";
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The archive fails its checks: damaged, cut short, or not a site backup. */
    public static final class Damaged extends IOException {
        public Damaged(String message) {
            super(message);
        }
    }
}
