package dev.outpost.tpm.eventlog;

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
        try {
            return Base64.getMimeDecoder().decode(contents);
        } catch (IllegalArgumentException e) {
            throw new EventLogException(0, "not valid base64: " + e.getMessage());
        }
    }

    /**
     * A binary log starts with a little-endian PCR index (a small number, so bytes 1-3 are zero), which can
     * never be base64 text; base64 text is only alphabet characters, padding and line breaks.
     */
    static boolean looksLikeBase64(byte[] b) {
        if (b.length < 4) {
            return false;
        }
        for (byte c : b) {
            boolean ok = c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
                    || c == '+' || c == '/' || c == '=' || c == '\n' || c == '\r' || c == ' ' || c == '\t';
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}
