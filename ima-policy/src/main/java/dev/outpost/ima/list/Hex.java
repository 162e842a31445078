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
