package dev.outpost.mqtt.protocol;

import java.util.List;
import java.util.stream.Collectors;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.InvalidNullException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;

/**
 * Says what was wrong with a message in the protocol's terms (field names, JSON types, limits). Jackson's own
 * messages name Java classes ({@code com.fasterxml.jackson.databind.JsonNode}, record types) and quote input; a peer
 * gets neither.
 */
final class JsonErrors {
    private JsonErrors() {
    }

    static String describe(JsonProcessingException e, Limits limits) {
        if (e instanceof StreamConstraintsException) {
            return "over a limit: strings at most " + limits.maxStringChars() + " characters, nesting at most "
                    + limits.maxDepth() + " levels, numbers at most 20 digits";
        }
        if (e instanceof JsonParseException p) {
            return "not JSON (line " + p.getLocation().getLineNr() + ", column " + p.getLocation().getColumnNr() + ")";
        }
        if (e instanceof UnrecognizedPropertyException u) {
            return "unknown field '" + printable(u.getPropertyName()) + "'" + where(u.getPath(), 1);
        }
        if (e instanceof ValueInstantiationException v && v.getCause() instanceof IllegalArgumentException bad) {
            // A message's own rules (record constructors) speak in protocol terms already.
            return printable200(bad.getMessage());
        }
        if (e instanceof InvalidNullException n) {
            return "field '" + path(n.getPath()) + "' may not be null";
        }
        if (e instanceof MismatchedInputException m) {
            String msg = String.valueOf(m.getOriginalMessage());
            // "Missing creator property 'x'" (older Jackson: "Missing required creator property 'x'")
            int at = msg.indexOf("creator property '");
            if (msg.startsWith("Missing") && at >= 0) {
                int start = at + "creator property '".length();
                int end = msg.indexOf('\'', start);
                return "field '" + printable(end > start ? msg.substring(start, end) : "?") + "' is missing";
            }
            String field = path(m.getPath());
            if (msg.startsWith("Cannot map `null`")) {
                return "field '" + field + "' may not be null";
            }
            return (field.isEmpty() ? "the message" : "field '" + field + "'") + " should be "
                    + jsonType(m.getTargetType());
        }
        if (e instanceof JsonMappingException m && !m.getPath().isEmpty()) {
            return "field '" + path(m.getPath()) + "' is not valid";
        }
        return "not a valid message";
    }

    private static String where(List<JsonMappingException.Reference> path, int drop) {
        String p = path(path.subList(0, Math.max(0, path.size() - drop)));
        return p.isEmpty() ? "" : " in '" + p + "'";
    }

    private static String path(List<JsonMappingException.Reference> path) {
        return path.stream().map(r -> r.getFieldName() != null ? printable(r.getFieldName())
                : String.valueOf(r.getIndex())).collect(Collectors.joining("."));
    }

    private static String jsonType(Class<?> t) {
        if (t == null) {
            return "of another type";
        }
        if (t == String.class || t.isEnum()) {
            return "a string";
        }
        if (t == boolean.class || t == Boolean.class) {
            return "true or false";
        }
        if (t == int.class || t == long.class || t == Integer.class || t == Long.class || Number.class.isAssignableFrom(t)) {
            return "a whole number";
        }
        if (t.isArray() || Iterable.class.isAssignableFrom(t)) {
            return "an array";
        }
        return "an object";
    }

    private static String printable200(String s) {
        if (s == null) {
            return "not a valid message";
        }
        String cut = s.length() > 200 ? s.substring(0, 200) + "…" : s;
        return cut.replaceAll("[^\\x20-\\x7e…]", "?");
    }

    // Field names come from the peer: at most 64 printable characters back.
    private static String printable(String s) {
        if (s == null) {
            return "?";
        }
        String cut = s.length() > 64 ? s.substring(0, 64) + "…" : s;
        return cut.replaceAll("[^\\x20-\\x7e…]", "?");
    }
}
