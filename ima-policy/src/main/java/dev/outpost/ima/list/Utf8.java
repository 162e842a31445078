package dev.outpost.ima.list;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Strict UTF-8: a name that is not valid UTF-8 cannot be matched against a JSON policy, so it is refused. */
final class Utf8 {
    private Utf8() {
    }

    static String decode(byte[] b, int off, int len, Object where) {
        // Without a branch per byte (the top frame of a 500,000-entry run's reading thread): OR every byte for
        // "any non-ASCII", and every byte's "is NUL".
        int or = 0;
        boolean nul = false;
        for (int i = off; i < off + len; i++) {
            byte c = b[i];
            or |= c;
            nul |= c == 0;
        }
        if (nul) {
            throw new ImaFormatException(where + ": NUL byte inside a name");
        }
        if (or >= 0) {
            // The common case: skip the decoder machinery, ISO-8859-1 of ASCII bytes is the same text.
            return new String(b, off, len, StandardCharsets.ISO_8859_1);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b, off, len)).toString();
        } catch (CharacterCodingException e) {
            throw new ImaFormatException(where + ": name is not valid UTF-8");
        }
    }
}
