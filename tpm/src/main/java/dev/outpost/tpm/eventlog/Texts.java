package dev.outpost.tpm.eventlog;

import java.nio.charset.StandardCharsets;

/** String conventions of firmware logs: NUL-terminated, UTF-16LE or 8-bit, sometimes neither. */
final class Texts {
    private Texts() {
    }

    static String utf16(byte[] b, int off, int len) {
        String s = new String(b, off, len & ~1, StandardCharsets.UTF_16LE);
        int nul = s.indexOf('\0');
        return nul >= 0 ? s.substring(0, nul) : s;
    }

    static String utf8(byte[] b) {
        int n = b.length;
        while (n > 0 && b[n - 1] == 0) {
            n--;
        }
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }

    /** systemd-boot logs EV_IPL strings in UTF-16LE, grub in UTF-8: tell them apart by the zero high bytes. */
    static boolean looksUtf16(byte[] b) {
        if (b.length < 2 || b.length % 2 != 0) {
            return false;
        }
        for (int i = 1; i < b.length; i += 2) {
            if (b[i] != 0) {
                return false;
            }
        }
        return b[0] != 0;
    }

    static String text(byte[] b) {
        return looksUtf16(b) ? utf16(b, 0, b.length) : utf8(b);
    }

    static boolean printableAscii(byte[] b) {
        if (b.length == 0) {
            return false;
        }
        for (int i = 0; i < b.length; i++) {
            int c = b[i] & 0xFF;
            boolean trailingNul = c == 0 && i == b.length - 1;
            if (!trailingNul && (c < 0x20 || c > 0x7E) && c != '\t' && c != '\n' && c != '\r') {
                return false;
            }
        }
        return true;
    }
}
