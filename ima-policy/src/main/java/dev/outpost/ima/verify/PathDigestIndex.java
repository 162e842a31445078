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
        this(m.size(), sink -> m.forEach((path, ds) -> sink.add(path, java.util.Arrays.asList(ds))));
    }

    /**
     * Straight from the policy model's hex strings: no {@link PolicyDigest} array per path and no second map, which
     * for a 100,000-path policy were a map and 200,000 objects alive beside the index while it was built.
     */
    public static PathDigestIndex fromHex(Map<String, java.util.List<String>> m) {
        return new PathDigestIndex(m.size(), sink -> m.forEach((path, hex) -> sink.add(path,
                new java.util.AbstractList<PolicyDigest>() {
                    @Override
                    public PolicyDigest get(int i) {
                        return PolicyDigest.parse(hex.get(i));
                    }

                    @Override
                    public int size() {
                        return hex.size();
                    }
                })));
    }

    private interface Source {
        void feed(Builder sink);
    }

    private PathDigestIndex(int count, Source source) {
        int cap = Integer.highestOneBit(Math.max(4, count * 2 - 1)) << 1;
        slots = new long[cap];
        mask = cap - 1;
        Builder b = new Builder();
        source.feed(b);
        if (b.count != count) {
            throw new IllegalStateException("policy map changed while it was indexed");
        }
        pool = java.util.Arrays.copyOf(b.pool, b.size);
    }

    /** Appends records to a growing pool; one pass, so each path is encoded once. */
    private final class Builder {
        private byte[] pool = new byte[1 << 16];
        private int size;
        private int count;

        void add(String path, java.util.List<PolicyDigest> digests) {
            if (digests.size() > 255) {
                throw new IllegalArgumentException("more than 255 digests for " + path);
            }
            byte[] utf8 = path.getBytes(StandardCharsets.UTF_8);
            int start = size;
            ensure(5L + utf8.length);
            putInt(start, utf8.length);
            System.arraycopy(utf8, 0, pool, start + 4, utf8.length);
            size = start + 4 + utf8.length;
            pool[size++] = (byte) digests.size();
            for (PolicyDigest d : digests) {
                ensure(2L + d.value().length);
                pool[size++] = (byte) (d.alg() == null ? 0 : d.alg().ordinal() + 1);
                pool[size++] = (byte) d.value().length;
                System.arraycopy(d.value(), 0, pool, size, d.value().length);
                size += d.value().length;
            }
            int h = spread(path.hashCode());
            int i = h & mask;
            while (slots[i] != 0) {
                i = (i + 1) & mask;
            }
            slots[i] = (long) h << 32 | (start + 1L);
            count++;
        }

        private void ensure(long more) {
            long need = size + more;
            if (need > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException("policy too large for the index");
            }
            if (need > pool.length) {
                pool = java.util.Arrays.copyOf(pool, (int) Math.min(Integer.MAX_VALUE - 16, Math.max(need, 2L * pool.length)));
            }
        }

        private void putInt(int p, int v) {
            pool[p] = (byte) (v >>> 24);
            pool[p + 1] = (byte) (v >>> 16);
            pool[p + 2] = (byte) (v >>> 8);
            pool[p + 3] = (byte) v;
        }
    }

    /** Bytes held by the index (slots and pool), for the memory figures in BENCHMARKS.md. */
    public long sizeInBytes() {
        return 8L * slots.length + pool.length;
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
