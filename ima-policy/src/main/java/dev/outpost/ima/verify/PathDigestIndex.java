package dev.outpost.ima.verify;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import dev.outpost.ima.policy.PolicyDigest;
import dev.outpost.tpm.HashAlg;

/**
 * Path → accepted digests, laid out for lookups that miss the CPU caches as little as possible: one open-addressing
 * long[] of (hash, offset) slots and one byte pool holding each path next to its digests. A HashMap of Strings to
 * digest arrays chases about six pointers per lookup, which dominated verification of large lists. Keys are always
 * compared in full, so a hash collision can never make an unlisted path pass. Immutable.
 *
 * <p>Pool record: u32 path length, UTF-8 path, u8 digest count, then per digest: u8 algorithm (0 = any algorithm of
 * that size, else HashAlg ordinal + 1), u8 length, bytes.
 */
public final class PathDigestIndex {
    public static final int NOT_LISTED = -1;

    private final long[] slots;
    private final int mask;
    private final byte[] pool;

    public PathDigestIndex(Map<String, PolicyDigest[]> m) {
        int cap = Integer.highestOneBit(Math.max(4, m.size() * 2 - 1)) << 1;
        slots = new long[cap];
        mask = cap - 1;
        long size = 0;
        for (Map.Entry<String, PolicyDigest[]> e : m.entrySet()) {
            size += 5 + e.getKey().getBytes(StandardCharsets.UTF_8).length;
            for (PolicyDigest d : e.getValue()) {
                size += 2 + d.value().length;
            }
        }
        if (size > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("policy too large for the index");
        }
        pool = new byte[(int) size];
        int p = 0;
        for (Map.Entry<String, PolicyDigest[]> e : m.entrySet()) {
            if (e.getValue().length > 255) {
                throw new IllegalArgumentException("more than 255 digests for " + e.getKey());
            }
            int start = p;
            byte[] path = e.getKey().getBytes(StandardCharsets.UTF_8);
            p = putInt(p, path.length);
            System.arraycopy(path, 0, pool, p, path.length);
            p += path.length;
            pool[p++] = (byte) e.getValue().length;
            for (PolicyDigest d : e.getValue()) {
                pool[p++] = (byte) (d.alg() == null ? 0 : d.alg().ordinal() + 1);
                pool[p++] = (byte) d.value().length;
                System.arraycopy(d.value(), 0, pool, p, d.value().length);
                p += d.value().length;
            }
            int h = spread(e.getKey().hashCode());
            int i = h & mask;
            while (slots[i] != 0) {
                i = (i + 1) & mask;
            }
            slots[i] = (long) h << 32 | (start + 1L);
        }
    }

    private int putInt(int p, int v) {
        pool[p] = (byte) (v >>> 24);
        pool[p + 1] = (byte) (v >>> 16);
        pool[p + 2] = (byte) (v >>> 8);
        pool[p + 3] = (byte) v;
        return p + 4;
    }

    private static int spread(int h) {
        return h ^ (h >>> 16);
    }

    /** Offset of the path's digest list for {@link #accepts}, or {@link #NOT_LISTED}. */
    public int find(String path) {
        int h = spread(path.hashCode());
        for (int i = h & mask;; i = (i + 1) & mask) {
            long s = slots[i];
            if (s == 0) {
                return NOT_LISTED;
            }
            if ((int) (s >>> 32) == h) {
                int at = (int) s - 1;
                int end = keyEquals(at, path);
                if (end >= 0) {
                    return end;
                }
            }
        }
    }

    /** Offset just past the stored path when it equals {@code path}, else -1. */
    private int keyEquals(int at, String path) {
        int len = (pool[at] & 0xff) << 24 | (pool[at + 1] & 0xff) << 16 | (pool[at + 2] & 0xff) << 8
                | (pool[at + 3] & 0xff);
        int p = at + 4;
        int n = path.length();
        boolean ascii = true;
        if (len == n) {
            for (int i = 0; i < n; i++) {
                char c = path.charAt(i);
                if (c >= 0x80) {
                    ascii = false;
                    break;
                }
                if (pool[p + i] != (byte) c) {
                    return -1;
                }
            }
            if (ascii) {
                return p + len;
            }
        }
        if (ascii && len == n) {
            return -1;
        }
        byte[] utf8 = path.getBytes(StandardCharsets.UTF_8);
        return java.util.Arrays.equals(pool, p, p + len, utf8, 0, utf8.length) ? p + len : -1;
    }

    /** Whether any digest listed at {@code offset} equals the measured one (and names its algorithm, if it does). */
    public boolean accepts(int offset, HashAlg alg, byte[] digest) {
        int count = pool[offset] & 0xff;
        int p = offset + 1;
        int want = alg.ordinal() + 1;
        int diff = 0;
        boolean any = false;
        for (int k = 0; k < count; k++) {
            int a = pool[p] & 0xff;
            int len = pool[p + 1] & 0xff;
            p += 2;
            if ((a == 0 || a == want) && len == digest.length) {
                diff = 0;
                for (int i = 0; i < len; i++) {
                    diff |= pool[p + i] ^ digest[i];
                }
                any |= diff == 0;
            }
            p += len;
        }
        return any;
    }
}
