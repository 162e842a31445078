package dev.outpost.ima.verify;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;

import dev.outpost.ima.list.ImaEntry;
import dev.outpost.ima.list.ImaTemplate;
import dev.outpost.tpm.HashAlg;

/**
 * The entries and failures waiting for the policy, in order. A file measurement (ima, ima-ng: nearly every entry)
 * is kept as a packed record of what judging it needs (index, template, algorithm, digest, UTF-8 path) in chunks
 * of up to 1 MiB, not as its objects: ~80 bytes instead of ~450, and a young collection copies a chunk instead of tracing
 * five objects per entry (as objects, waiting entries made the collections during a 500,000-entry run several
 * times longer). Anything else (signed, buffer entries, failures) waits as the object it is. Not thread-safe.
 */
final class EntryQueue {
    private static final int MAX_CHUNK = 1 << 20;
    private static final byte FILE = 1;
    private static final byte OBJECT = 2;
    private static final byte[] NONE = new byte[0];
    private static final HashAlg[] ALGS = HashAlg.values();
    private static final ImaTemplate[] TEMPLATES = ImaTemplate.values();

    private static final class Chunk {
        final byte[] b;
        int w;
        int r;

        Chunk(int size) {
            b = new byte[size];
        }
    }

    private final int chunkSize;
    private final ArrayDeque<Chunk> chunks = new ArrayDeque<>();
    private final ArrayDeque<Object> objects = new ArrayDeque<>();
    private long size;

    /** @param maxBytes the caller's bound: chunks are no larger, so a small bound is not overshot by a chunk */
    EntryQueue(long maxBytes) {
        chunkSize = (int) Math.min(MAX_CHUNK, Math.max(maxBytes, 4096));
    }

    /** Bytes a record of this entry takes, so the caller can bound the queue before adding it. */
    static long cost(ImaEntry e) {
        return packable(e) ? 16L + e.digest().length + 3L * e.path().length()
                : 1 + PendingEvaluations.cost(e);
    }

    static long cost(ImaFailure f) {
        return 1 + PendingEvaluations.ENTRY_OVERHEAD + 2L * f.message().length();
    }

    private static boolean packable(ImaEntry e) {
        return (e.template() == ImaTemplate.IMA || e.template() == ImaTemplate.IMA_NG) && e.signature() == null
                && e.buffer() == null && e.modsig() == null && e.digest().length < 256;
    }

    boolean isEmpty() {
        return size == 0;
    }

    void add(ImaEntry e) {
        if (!packable(e)) {
            addObject(e);
            return;
        }
        size++;
        byte[] path = e.path().getBytes(StandardCharsets.UTF_8);
        byte[] d = e.digest();
        Chunk c = room(16 + d.length + path.length);
        byte[] b = c.b;
        int w = c.w;
        b[w++] = FILE;
        long index = e.index();
        for (int i = 56; i >= 0; i -= 8) {
            b[w++] = (byte) (index >>> i);
        }
        b[w++] = (byte) e.template().ordinal();
        b[w++] = (byte) e.digestAlg().ordinal();
        b[w++] = (byte) d.length;
        System.arraycopy(d, 0, b, w, d.length);
        w += d.length;
        b[w++] = (byte) (path.length >>> 24);
        b[w++] = (byte) (path.length >>> 16);
        b[w++] = (byte) (path.length >>> 8);
        b[w++] = (byte) path.length;
        System.arraycopy(path, 0, b, w, path.length);
        c.w = w + path.length;
    }

    void add(ImaFailure f) {
        addObject(f);
    }

    private void addObject(Object o) {
        size++;
        objects.add(o);
        Chunk c = room(1);
        c.b[c.w++] = OBJECT;
    }

    private Chunk room(int n) {
        Chunk c = chunks.peekLast();
        if (c == null || c.b.length - c.w < n) {
            c = new Chunk(Math.max(chunkSize, n));
            chunks.add(c);
        }
        return c;
    }

    /** The next waiting ImaEntry (a file entry as rebuilt for judging: no template data) or ImaFailure, or null. */
    Object poll() {
        Chunk c = chunks.peekFirst();
        while (c != null && c.r == c.w) {
            if (c == chunks.peekLast()) {
                return null;
            }
            chunks.pollFirst();
            c = chunks.peekFirst();
        }
        if (c == null) {
            return null;
        }
        size--;
        byte[] b = c.b;
        int r = c.r;
        if (b[r++] == OBJECT) {
            c.r = r;
            return objects.poll();
        }
        long index = 0;
        for (int i = 0; i < 8; i++) {
            index = index << 8 | (b[r++] & 0xff);
        }
        ImaTemplate t = TEMPLATES[b[r++]];
        HashAlg alg = ALGS[b[r++]];
        int dl = b[r++] & 0xff;
        byte[] d = java.util.Arrays.copyOfRange(b, r, r + dl);
        r += dl;
        int pl = (b[r] & 0xff) << 24 | (b[r + 1] & 0xff) << 16 | (b[r + 2] & 0xff) << 8 | (b[r + 3] & 0xff);
        r += 4;
        String path = new String(b, r, pl, StandardCharsets.UTF_8);
        c.r = r + pl;
        return new ImaEntry(index, IncrementalImaVerifier.IMA_PCR, NONE, t, NONE, alg, d, path, null, null, null,
                null, null);
    }
}
