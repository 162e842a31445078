package dev.outpost.tpm.eventlog;

import java.util.Arrays;
import java.util.Base64;

/** Turns file contents into log bytes: binary as is, or base64 as Keylime stores it (mb_log.b64). */
public final class EventLogInput {
    private EventLogInput() {
    }

    /** Decodes base64 when asked to or when the bytes look like it; binary logs pass through unchanged. */
    public static byte[] fromFile(byte[] contents, boolean base64, Limits limits) throws EventLogException {
        if (!base64 && !looksLikeBase64(contents)) {
            return contents;
        }
        // 4 base64 characters per 3 bytes, plus generous room for line breaks.
        long maxText = (long) limits.maxLogBytes() / 3 * 4 + limits.maxLogBytes() / 16 + 16;
        if (contents.length > maxText) {
            throw new EventLogException(0, "base64 log of " + contents.length + " bytes is over the limit");
        }
        // Strict decoding after dropping line breaks: the MIME decoder would silently skip garbage.
        byte[] text = new byte[contents.length];
        int n = 0;
        for (byte c : contents) {
            if (c != '\n' && c != '\r') {
                text[n++] = c;
            }
        }
        try {
            return Base64.getDecoder().decode(Arrays.copyOf(text, n));
        } catch (IllegalArgumentException e) {
            throw new EventLogException(0, "not valid base64: " + e.getMessage());
        }
    }

    /**
     * A binary log starts with a little-endian PCR index (a small number, so bytes 1-3 are zero), which can
     * never be base64 text. Base64 text is alphabet characters and padding in lines whose lengths are
     * multiples of 4 except the last; the line rule keeps short text files (keylime's "-bogus" log) binary.
     */
    static boolean looksLikeBase64(byte[] b) {
        if (b.length < 4) {
            return false;
        }
        int line = 0;
        int total = 0;
        boolean lastLineSeen = false;
        for (byte c : b) {
            if (c == '\n' || c == '\r') {
                if (line > 0) {
                    if (lastLineSeen) {
                        return false;
                    }
                    lastLineSeen = line % 4 != 0;
                }
                line = 0;
                continue;
            }
            boolean ok = c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
                    || c == '+' || c == '/' || c == '=';
            if (!ok || lastLineSeen) {
                return false;
            }
            line++;
            total++;
        }
        return total % 4 == 0;
    }
}
