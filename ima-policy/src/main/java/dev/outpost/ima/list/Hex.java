package dev.outpost.ima.list;

/** Strict hex, because HexFormat accepts nothing less than exact input but throws a message without context. */
public final class Hex {
    private static final char[] DIGITS = "0123456789abcdef".toCharArray();

    private Hex() {
    }

    public static String encode(byte[] b) {
        char[] out = new char[b.length * 2];
        for (int i = 0; i < b.length; i++) {
            out[2 * i] = DIGITS[(b[i] >> 4) & 15];
            out[2 * i + 1] = DIGITS[b[i] & 15];
        }
        return new String(out);
    }

    private static final byte[] VALUE = new byte[256];

    static {
        java.util.Arrays.fill(VALUE, (byte) -1);
        for (int i = 0; i < 10; i++) {
            VALUE['0' + i] = (byte) i;
        }
        for (int i = 0; i < 6; i++) {
            VALUE['a' + i] = (byte) (10 + i);
            VALUE['A' + i] = (byte) (10 + i);
        }
    }

    /** The value of a lowercase hex digit, or -1 for any other character (Keylime's policy digests are lowercase). */
    public static int lowercaseDigit(char c) {
        return c < 128 && (c < 'A' || c > 'F') ? VALUE[c] : -1;
    }

    /**
     * Decodes {@code len} hex digits of {@code b} from {@code off} (either case, as {@link #decodeOrNull(CharSequence)})
     * into {@code out} at {@code outOff}; false when {@code len} is odd or a byte is not a hex digit.
     */
    public static boolean decodeInto(byte[] b, int off, int len, byte[] out, int outOff) {
        if ((len & 1) != 0) {
            return false;
        }
        int bad = 0;
        for (int i = 0; i < len; i += 2) {
            int hi = VALUE[b[off + i] & 0xff];
            int lo = VALUE[b[off + i + 1] & 0xff];
            bad |= hi | lo;
            out[outOff + i / 2] = (byte) (hi << 4 | lo);
        }
        return bad >= 0;
    }

    /** Null when {@code s} is not an even-length string of hex digits. */
    public static byte[] decodeOrNull(CharSequence s) {
        int n = s.length();
        if ((n & 1) != 0) {
            return null;
        }
        byte[] out = new byte[n / 2];
        for (int i = 0; i < n; i += 2) {
            int hi = Character.digit(s.charAt(i), 16);
            int lo = Character.digit(s.charAt(i + 1), 16);
            if (hi < 0 || lo < 0 || s.charAt(i) > 'f' || s.charAt(i + 1) > 'f') {
                return null;
            }
            out[i / 2] = (byte) (hi << 4 | lo);
        }
        return out;
    }
}
