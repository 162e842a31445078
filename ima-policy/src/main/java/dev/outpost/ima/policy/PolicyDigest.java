package dev.outpost.ima.policy;

import dev.outpost.ima.list.DigestAlgNames;
import dev.outpost.ima.list.Hex;
import dev.outpost.tpm.HashAlg;

/**
 * One accepted digest. Keylime's schema admits lowercase hex of 40..128 digits; lengths that no supported algorithm
 * produces are refused as Keylime's policy tool does ("Invalid digest algorithm"), since they can never match.
 *
 * @param alg   the algorithm named by a "{@code <alg>:}" prefix, or null when unprefixed (any algorithm of that size)
 * @param value raw digest bytes
 */
public record PolicyDigest(HashAlg alg, byte[] value) {
    /** The longest digest any accepted algorithm produces (SHA-512). */
    public static final int MAX_BYTES = 64;

    /** Null with {@code reason[0]} set when the text is not acceptable. */
    public static PolicyDigest parse(String s, String[] reason) {
        HashAlg[] alg = new HashAlg[1];
        byte[] v = new byte[MAX_BYTES];
        int n = decode(s.toCharArray(), 0, s.length(), alg, v, reason);
        return n < 0 ? null : new PolicyDigest(alg[0], java.util.Arrays.copyOf(v, n));
    }

    /**
     * The one set of rules for a digest's text, on the parser's own characters so a 100,000-path policy compiles
     * without a String per digest: validates {@code c[off, off + len)} as {@link #parse(String, String[])} does and
     * decodes it into {@code out} (at least {@link #MAX_BYTES}). Returns the digest's length in bytes, with
     * {@code alg[0]} set to the prefix's algorithm or null, or -1 with {@code reason[0]} set.
     */
    public static int decode(char[] c, int off, int len, HashAlg[] alg, byte[] out, String[] reason) {
        int end = off + len;
        int h = off;
        alg[0] = null;
        for (int i = off; i < end; i++) {
            if (c[i] == ':') {
                String name = new String(c, off, i - off);
                alg[0] = DigestAlgNames.parse(name);
                if (alg[0] == null) {
                    reason[0] = "Invalid digest algorithm \"" + name.substring(0, Math.min(name.length(), 16)) + "\"";
                    return -1;
                }
                h = i + 1;
                break;
            }
        }
        int n = end - h;
        if ((n & 1) == 0 && n <= 2 * out.length) {
            // Nearly every digest: an even number of lowercase hex digits, decoded in one pass. Anything else takes
            // the checks below, in their order, for the message.
            int bad = 0;
            for (int i = 0; i < n; i += 2) {
                char hi = c[h + i];
                char lo = c[h + i + 1];
                int h4 = Hex.lowercaseDigit(hi);
                int l4 = Hex.lowercaseDigit(lo);
                out[i / 2] = (byte) (h4 << 4 | l4);
                bad |= h4 | l4;
            }
            if (bad >= 0) {
                return sized(n, alg[0], reason);
            }
        }
        // First rule: lowercase, as Python's schema pattern sees it (any character with a lowercase form fails).
        for (int i = h; i < end; i++) {
            char ch = c[i];
            if (ch < 0x80 ? ch >= 'A' && ch <= 'Z' : changesInLowercase(c, i, end)) {
                reason[0] = "digest must be lowercase hex";
                return -1;
            }
        }
        boolean hex = (n & 1) == 0;
        for (int i = h; hex && i < end; i++) {
            char ch = c[i];
            hex = ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'f';
        }
        if (!hex) {
            reason[0] = "digest is not hex";
            return -1;
        }
        // Every character is a lowercase hex digit here; an even count short enough was decoded above.
        return sized(n, alg[0], reason);
    }

    /** The last rule: a length some algorithm (the prefix's, if any) produces. The bytes are already decoded. */
    private static int sized(int hexDigits, HashAlg alg, String[] reason) {
        int bytes = hexDigits / 2;
        boolean sizeOk = alg != null ? bytes == alg.digestSize()
                : bytes == 20 || bytes == 32 || bytes == 48 || bytes == 64;
        if (!sizeOk) {
            reason[0] = "Invalid digest algorithm: " + hexDigits + " hex digits match no supported algorithm";
            return -1;
        }
        return bytes;
    }

    /** Whether String.toLowerCase(Locale.ROOT) would change the code point at {@code i} (non-ASCII only). */
    private static boolean changesInLowercase(char[] c, int i, int end) {
        int cp = Character.codePointAt(c, i, end);
        return Character.toLowerCase(cp) != cp;
    }

    public static PolicyDigest parse(String s) {
        String[] r = new String[1];
        PolicyDigest d = parse(s, r);
        if (d == null) {
            throw new PolicyException(r[0]);
        }
        return d;
    }
}
