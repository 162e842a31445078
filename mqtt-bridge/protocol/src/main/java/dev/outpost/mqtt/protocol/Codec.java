package dev.outpost.mqtt.protocol;

import java.io.IOException;
import java.util.Base64;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * JSON encoding of protocol messages with the limits applied before parsing. Decoding is strict: unknown
 * fields, missing version and nulls for numbers are errors, so a message means one thing only. Thread-safe.
 */
public final class Codec {
    private final ObjectMapper mapper;
    private final Limits limits;

    public Codec(Limits limits) {
        this.limits = limits;
        JsonFactory f = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(limits.maxDepth())
                        .maxStringLength(limits.maxStringChars())
                        .maxNumberLength(20)
                        .build())
                .build();
        this.mapper = JsonMapper.builder(f)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                // no "3" for 3, no 3 or true for "3": a field has one JSON type
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .build();
        for (CoercionInputShape shape : new CoercionInputShape[] {CoercionInputShape.Integer, CoercionInputShape.Float,
            CoercionInputShape.Boolean}) {
            mapper.coercionConfigFor(LogicalType.Textual).setCoercion(shape, CoercionAction.Fail);
        }
    }

    public Codec() {
        this(Limits.DEFAULT);
    }

    public Limits limits() {
        return limits;
    }

    /** Decodes a request of the given kind, checking size, version and shape. */
    public Object decodeRequest(Kind kind, byte[] payload) throws ProtocolException {
        return decode(payload, kind.requestType());
    }

    public <T> T decode(byte[] payload, Class<T> type) throws ProtocolException {
        JsonNode tree = tree(payload);
        absentOptionalsAsNull(tree, type);
        try {
            return mapper.treeToValue(tree, type);
        } catch (JsonProcessingException e) {
            throw new ProtocolException(ErrorCode.BAD_REQUEST, JsonErrors.describe(e, limits));
        }
    }

    private JsonNode tree(byte[] payload) throws ProtocolException {
        if (payload.length > limits.maxPayloadBytes()) {
            throw new ProtocolException(ErrorCode.TOO_LARGE,
                    payload.length + " bytes, the limit is " + limits.maxPayloadBytes());
        }
        JsonNode tree;
        try {
            tree = mapper.readTree(payload);
        } catch (JsonProcessingException e) {
            throw new ProtocolException(ErrorCode.BAD_REQUEST, JsonErrors.describe(e, limits));
        } catch (IOException e) {
            throw new ProtocolException(ErrorCode.BAD_REQUEST, "not JSON");
        }
        if (tree == null || !tree.isObject()) {
            throw new ProtocolException(ErrorCode.BAD_REQUEST, "not a JSON object");
        }
        JsonNode v = tree.get("v");
        if (v == null || !v.isInt()) {
            throw new ProtocolException(ErrorCode.BAD_REQUEST, "missing protocol version field v");
        }
        if (v.intValue() != Messages.VERSION) {
            throw new ProtocolException(ErrorCode.UNSUPPORTED_VERSION,
                    "protocol version " + v.intValue() + ", this appliance speaks " + Messages.VERSION);
        }
        return tree;
    }

    // Fields added to a message later (@OptionalField) may be missing; every other field must be there.
    private static final java.util.Map<Class<?>, java.util.List<String>> OPTIONAL = new java.util.concurrent.ConcurrentHashMap<>();

    private static void absentOptionalsAsNull(JsonNode tree, Class<?> type) {
        if (!(tree instanceof ObjectNode o) || !type.isRecord()) {
            return;
        }
        for (String name : OPTIONAL.computeIfAbsent(type, t -> java.util.Arrays.stream(t.getRecordComponents())
                .filter(c -> c.isAnnotationPresent(OptionalField.class)).map(java.lang.reflect.RecordComponent::getName)
                .toList())) {
            if (!o.has(name)) {
                o.putNull(name);
            }
        }
    }

    public byte[] encode(Object message) {
        try {
            return mapper.writeValueAsBytes(message);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode " + message.getClass().getSimpleName(), e);
        }
    }

    public byte[] ok(Object body) {
        return encode(new Ok(Messages.VERSION, true, body));
    }

    // Written straight from the body: valueToTree built a tree of every reply only to write the tree out again.
    @com.fasterxml.jackson.annotation.JsonPropertyOrder({"v", "ok", "body"})
    record Ok(int v, boolean ok, Object body) {
    }

    public byte[] error(ErrorCode code, String message) {
        return error(code, message, 0);
    }

    /** An error reply; {@code retryAfterMs} > 0 tells the device when to ask again. */
    public byte[] error(ErrorCode code, String message, long retryAfterMs) {
        ObjectNode n = mapper.createObjectNode();
        n.put("v", Messages.VERSION);
        n.put("ok", false);
        n.put("error", code.name());
        n.put("message", message);
        if (retryAfterMs > 0) {
            n.put("retryAfter", retryAfterMs);
        }
        return encode(n);
    }

    /** Reads a reply envelope (the agent's side). */
    public Response decodeResponse(byte[] payload) throws ProtocolException {
        JsonNode t = tree(payload);
        JsonNode ok = t.get("ok");
        if (ok == null || !ok.isBoolean()) {
            throw new ProtocolException(ErrorCode.BAD_REQUEST, "reply without ok");
        }
        ErrorCode code = null;
        if (!ok.booleanValue()) {
            try {
                code = ErrorCode.valueOf(t.path("error").asText("INTERNAL"));
            } catch (IllegalArgumentException e) {
                code = ErrorCode.INTERNAL;
            }
        }
        // A hint outside a sane range is ignored rather than obeyed: a day at most.
        long retry = t.path("retryAfter").canConvertToLong() ? t.path("retryAfter").asLong() : 0;
        return new Response(Messages.VERSION, ok.booleanValue(), code, t.path("message").asText(null), t.get("body"),
                retry > 0 && retry <= 86_400_000L ? retry : 0);
    }

    /** The body of a successful reply as a message type. */
    public <T> T body(Response r, Class<T> type) throws ProtocolException {
        if (!r.ok()) {
            throw new ProtocolException(r.error(), r.message(), r.retryAfterMs());
        }
        JsonNode body = r.body() == null ? null : r.body().deepCopy();
        absentOptionalsAsNull(body, type);
        try {
            return mapper.treeToValue(body, type);
        } catch (JsonProcessingException e) {
            throw new ProtocolException(ErrorCode.BAD_REQUEST, "reply body: " + JsonErrors.describe(e, limits));
        } catch (IllegalArgumentException e) {
            throw new ProtocolException(ErrorCode.BAD_REQUEST, "reply body is not valid");
        }
    }

    /** Decodes a base64 field with a size limit, naming the field when it is not base64. */
    public static byte[] base64(String value, String field, int maxBytes) throws ProtocolException {
        if (value == null) {
            throw new ProtocolException(ErrorCode.BAD_REQUEST, field + ": missing");
        }
        if (value.length() > (maxBytes + 2) / 3 * 4) {
            throw new ProtocolException(ErrorCode.TOO_LARGE, field + ": over " + maxBytes + " bytes");
        }
        try {
            return Base64.getDecoder().decode(value);
        } catch (IllegalArgumentException e) {
            throw new ProtocolException(ErrorCode.BAD_REQUEST, field + ": not base64");
        }
    }

    public static String base64(byte[] value) {
        return value == null ? null : Base64.getEncoder().encodeToString(value);
    }
}
