package dev.outpost.central.api;

import java.util.Base64;
import java.util.Map;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;

import dev.outpost.central.refusal.Refusal;

/**
 * Strict JSON for the site API, as the device protocol's codec is: unknown fields, duplicate keys, trailing data,
 * deep nesting, long strings and numbers are refused; {@code "v"} must be 1. Errors name the field, never echo a
 * stack trace.
 */
public final class JsonCodec {
    private static final ObjectMapper STRICT = strict(4);
    // The events batch (docs/upward-link.md "Store and forward") nests deeper: body, events[], event, data, and a
    // list or map inside data. Same rules otherwise.
    private static final ObjectMapper NESTED = strict(8);
    private static final ObjectMapper OUT = new ObjectMapper();

    private JsonCodec() {
    }

    private static ObjectMapper strict(int maxDepth) {
        return JsonMapper.builder(JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(maxDepth)
                        .maxStringLength(64 * 1024)
                        .maxNumberLength(19)
                        .build())
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .build())
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .build();
    }

    public static <T> T decode(byte[] body, Class<T> type) throws Refusal {
        return decode(STRICT, body, type);
    }

    /** As {@link #decode(byte[], Class)}, nesting up to 8 levels (the events batch, whose {@code data} is free JSON). */
    public static <T> T decodeNested(byte[] body, Class<T> type) throws Refusal {
        return decode(NESTED, body, type);
    }

    private static <T> T decode(ObjectMapper mapper, byte[] body, Class<T> type) throws Refusal {
        T value;
        try {
            value = mapper.readValue(body, type);
        } catch (UnrecognizedPropertyException e) {
            throw Refusal.badRequest("unknown field \"" + e.getPropertyName() + "\"");
        } catch (Exception e) {
            String m = e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
            throw Refusal.badRequest("body is not the expected JSON object: " + clip(m));
        }
        if (value == null) {
            throw Refusal.badRequest("body is not a JSON object");
        }
        return value;
    }

    public static void version(Integer v) throws Refusal {
        if (v == null) {
            throw Refusal.badRequest("\"v\" is missing");
        }
        if (v != 1) {
            throw Refusal.badRequest("\"v\": " + v + " is not supported (1 only)");
        }
    }

    public static String required(String value, String field) throws Refusal {
        if (value == null) {
            throw Refusal.badRequest("\"" + field + "\" is missing");
        }
        return value;
    }

    /** Standard base64 with padding; null stays null. */
    public static byte[] base64(String value, String field, int maxBytes) throws Refusal {
        if (value == null) {
            return null;
        }
        if (value.length() > (maxBytes + 2) / 3 * 4) {
            throw Refusal.badRequest("\"" + field + "\" is over " + maxBytes + " bytes");
        }
        try {
            return Base64.getDecoder().decode(value);
        } catch (IllegalArgumentException e) {
            throw Refusal.badRequest("\"" + field + "\" is not standard base64");
        }
    }

    public static String encode(Map<String, ?> body) {
        try {
            return OUT.writeValueAsString(body);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String clip(String s) {
        String t = s.length() > 160 ? s.substring(0, 160) + "…" : s;
        return t.replaceAll("[^\\x20-\\x7e…]", "?");
    }
}
