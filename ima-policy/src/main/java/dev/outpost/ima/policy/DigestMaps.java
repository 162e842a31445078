package dev.outpost.ima.policy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.DupDetector;
import com.fasterxml.jackson.core.json.JsonReadContext;

import dev.outpost.tpm.HashAlg;

/** Streams a digest map ("digests", "keyrings", "ima-buf") from the parser into a {@link DigestSink}. */
final class DigestMaps {
    private DigestMaps() {
    }

    /** The policy model's form of a map: path → digest texts, in document order. */
    static final class Model implements DigestSink {
        private final Map<String, List<String>> map = new LinkedHashMap<>();
        private List<String> current;

        @Override
        public boolean key(String key) {
            current = new ArrayList<>(1);
            return map.putIfAbsent(key, current) == null;
        }

        @Override
        public void digest(char[] text, int off, int textLen, HashAlg alg, byte[] value, int len) {
            current.add(new String(text, off, textLen));
        }

        @Override
        public void endKey() {
            current = null;
        }

        Map<String, List<String>> map() {
            return map;
        }
    }

    /**
     * Reads the object at the parser's current token (START_OBJECT expected) into {@code sink}. Every digest is
     * validated and counted against {@code budget}; the messages are the model's, whichever sink receives them.
     */
    static void stream(JsonParser p, String path, int[] budget, DigestSink sink) throws IOException {
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw PolicyException.at(path, "must be an object");
        }
        DupPause pause = new DupPause(p.getParsingContext());
        String[] reason = new String[1];
        HashAlg[] alg = new HashAlg[1];
        byte[] value = new byte[PolicyDigest.MAX_BYTES];
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            if (!sink.key(key)) {
                // Word for word what the parser says of any other duplicate member (RuntimePolicyJson.read).
                throw new PolicyException("$: runtime policy is not valid JSON: "
                        + RuntimePolicyJson.firstLine("Duplicate field '" + key + "'"));
            }
            if (p.nextToken() != JsonToken.START_ARRAY) {
                throw PolicyException.at(path + "[" + RuntimePolicyJson.quote(key) + "]", "must be an array");
            }
            pause.arrayContext(p.getParsingContext());
            int i = 0;
            for (; p.nextToken() != JsonToken.END_ARRAY; i++) {
                if (p.currentToken() != JsonToken.VALUE_STRING) {
                    throw PolicyException.at(path + "[" + RuntimePolicyJson.quote(key) + "][" + i + "]", "must be a string");
                }
                int n = PolicyDigest.decode(p.getTextCharacters(), p.getTextOffset(), p.getTextLength(), alg, value,
                        reason);
                if (n < 0) {
                    throw PolicyException.at(path + "[" + RuntimePolicyJson.quote(key) + "][" + i + "]", reason[0]);
                }
                spend(budget, path);
                sink.digest(p.getTextCharacters(), p.getTextOffset(), p.getTextLength(), alg[0], value, n);
            }
            if (i == 0) {
                throw PolicyException.at(path + "[" + RuntimePolicyJson.quote(key) + "]",
                        "[] is too short (at least one digest required)");
            }
            sink.endKey();
        }
        pause.resume(p);
    }

    static void spend(int[] budget, String path) {
        if (--budget[0] < 0) {
            throw PolicyException.at(path, "policy has too many entries");
        }
    }

    /**
     * Turns the parser's duplicate-name tracking off inside one digest map (the sink detects duplicates there) and
     * back on after it. Jackson reuses its context objects for later siblings, and a reused context keeps the
     * detector it had (or lacked) when it was made, so both contexts this map uses (its object and the arrays in
     * it; a deeper one is never made, a nested value is refused first) get a detector again before anything else
     * is read with them.
     */
    private static final class DupPause {
        private final JsonReadContext object;
        private JsonReadContext array;

        DupPause(JsonStreamContext ctx) {
            object = ctx instanceof JsonReadContext r && r.getDupDetector() != null ? r : null;
            if (object != null) {
                object.withDupDetector(null);
            }
        }

        void arrayContext(JsonStreamContext ctx) {
            if (object != null && array == null && ctx instanceof JsonReadContext r) {
                array = r;
            }
        }

        void resume(JsonParser p) {
            if (object != null) {
                object.withDupDetector(DupDetector.rootDetector(p));
                if (array != null && array.getDupDetector() == null) {
                    array.withDupDetector(DupDetector.rootDetector(p));
                }
            }
        }
    }
}
