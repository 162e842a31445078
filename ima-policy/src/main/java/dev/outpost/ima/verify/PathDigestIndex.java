package dev.outpost.ima.verify;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import dev.outpost.ima.policy.DigestSink;
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
        PathDigestIndex built = build(m, ds -> java.util.Arrays.asList(ds));
        this.slots = built.slots;
        this.mask = built.mask;
        this.pool = built.pool;
    }

    /** From the policy model's hex strings (a policy already loaded as a model; see {@link Builder} otherwise). */
    public static PathDigestIndex fromHex(Map<String, java.util.List<String>> m) {
        return build(m, hex -> hex.stream().map(PolicyDigest::parse).toList());
    }

    private static <V> PathDigestIndex build(Map<String, V> m,
            java.util.function.Function<V, java.util.List<PolicyDigest>> digests) {
        Builder b = new Builder();
        m.forEach((path, v) -> {
            if (!b.key(path)) {
                throw new IllegalArgumentException("duplicate path " + path);
            }
            for (PolicyDigest d : digests.apply(v)) {
                b.add(d.alg(), d.value(), d.value().length);
            }
            b.endKey();
        });
        return b.build();
    }

    private PathDigestIndex(long[] slots, byte[] pool) {
        this.slots = slots;
        this.mask = slots.length - 1;
        this.pool = pool;
    }

    /**
     * Builds an index in one pass, straight from the policy's JSON tokens when used as the reader's
     * {@link DigestSink} (no String, array or map per digest). The slot table doubles as paths come, since the
     * reader cannot say how many there will be. A path seen before is reported, not indexed twice.
     */
    public static final class Builder implements DigestSink {
        private long[] slots;
        private int count;
        private byte[] pool;
        private int size;
        private int countAt = -1;
        private String path;

        public Builder() {
            this(0);
        }

        /**
         * @param jsonBytes size of the policy document, when known: the pool (~0.9 of it for Keylime's layout) and
         *                  the slots (a path per ~120 bytes) start near their final size instead of doubling their
         *                  way there, which left ~30 MB of copies behind for a 100,000-path policy
         */
        public Builder(long jsonBytes) {
            long hint = Math.min(Math.max(jsonBytes, 0), 64L << 20);
            pool = new byte[(int) Math.max(1 << 16, hint)];
            slots = new long[Math.max(1 << 12, Integer.highestOneBit((int) (hint / 32)))];
        }

        @Override
        public boolean key(String key) {
            byte[] utf8 = key.getBytes(StandardCharsets.UTF_8);
            int h = spread(key.hashCode());
            int mask = slots.length - 1;
            int i = h & mask;
            for (long s; (s = slots[i]) != 0; i = (i + 1) & mask) {
                int at = (int) s - 1;
                if ((int) (s >>> 32) == h && storedLength(pool, at) == utf8.length
                        && java.util.Arrays.equals(pool, at + 4, at + 4 + utf8.length, utf8, 0, utf8.length)) {
                    return false;
                }
            }
            int start = size;
            ensure(5L + utf8.length);
            putInt(start, utf8.length);
            System.arraycopy(utf8, 0, pool, start + 4, utf8.length);
            size = start + 4 + utf8.length;
            countAt = size;
            pool[size++] = 0;
            slots[i] = (long) h << 32 | (start + 1L);
            path = key;
            if (++count * 2 > slots.length) {
                grow();
            }
            return true;
        }

        @Override
        public void digest(char[] text, int off, int textLen, HashAlg alg, byte[] value, int len) {
            add(alg, value, len);
        }

        void add(HashAlg alg, byte[] value, int len) {
            int n = pool[countAt] & 0xff;
            if (n == 255) {
                throw new IllegalArgumentException("more than 255 digests for " + path);
            }
            pool[countAt] = (byte) (n + 1);
            ensure(2L + len);
            pool[size++] = (byte) (alg == null ? 0 : alg.ordinal() + 1);
            pool[size++] = (byte) len;
            System.arraycopy(value, 0, pool, size, len);
            size += len;
        }

        @Override
        public void endKey() {
            countAt = -1;
            path = null;
        }

        public PathDigestIndex build() {
            // Load at most 1/2 as before, at least 1/4: lookups of unlisted paths end at the first empty slot.
            long[] s = slots;
            while (s.length > 4 && count * 4 < s.length) {
                s = rehash(s, s.length / 2);
            }
            return new PathDigestIndex(s, java.util.Arrays.copyOf(pool, size));
        }

        private void grow() {
            slots = rehash(slots, slots.length * 2);
        }

        private static long[] rehash(long[] from, int cap) {
            long[] to = new long[cap];
            int mask = cap - 1;
            for (long s : from) {
                if (s != 0) {
                    int i = (int) (s >>> 32) & mask;
                    while (to[i] != 0) {
                        i = (i + 1) & mask;
                    }
                    to[i] = s;
                }
            }
            return to;
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

    private static int storedLength(byte[] pool, int at) {
        return (pool[at] & 0xff) << 24 | (pool[at + 1] & 0xff) << 16 | (pool[at + 2] & 0xff) << 8 | (pool[at + 3] & 0xff);
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
        int len = storedLength(pool, at);
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
