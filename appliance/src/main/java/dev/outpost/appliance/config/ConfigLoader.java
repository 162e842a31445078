package dev.outpost.appliance.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Collection;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeSet;

import org.yaml.snakeyaml.LoaderOptions;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

/**
 * YAML to {@link ApplianceConfig}: the user's file is laid over the built-in defaults key by key, bound strictly
 * (unknown keys, duplicate keys, floats for integers and nulls for numbers are errors) and then validated.
 */
final class ConfigLoader {
    static final int MAX_BYTES = 256 * 1024;
    private static final String DEFAULTS = "/dev/outpost/appliance/config/defaults.yaml";

    private static final ObjectMapper YAML = yamlMapper();
    private static final ObjectMapper BINDER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .addModule(new SimpleModule("outpost-config")
                    .addDeserializer(Duration.class, new DurationDeserializer())
                    .addDeserializer(Path.class, new PathDeserializer()))
            .build();

    private ConfigLoader() {
    }

    static ApplianceConfig defaults() {
        return parse("{}", "defaults");
    }

    static ApplianceConfig load(Path file) {
        String source = file.toString();
        try {
            long size = Files.size(file);
            if (size > MAX_BYTES) {
                throw new ConfigException(source, java.util.List.of("file is " + size + " bytes, over the " + MAX_BYTES + " limit"));
            }
            return parse(Files.readString(file, StandardCharsets.UTF_8), source);
        } catch (NoSuchFileException e) {
            throw new ConfigException(source, "no such file", e);
        } catch (IOException e) {
            throw new ConfigException(source, "cannot read: " + e.getMessage(), e);
        }
    }

    static ApplianceConfig parse(String yaml, String source) {
        if (yaml.length() > MAX_BYTES) {
            throw new ConfigException(source, java.util.List.of("over the " + MAX_BYTES + " byte limit"));
        }
        JsonNode user;
        try {
            user = YAML.readTree(yaml);
        } catch (JsonProcessingException e) {
            throw new ConfigException(source, "not valid YAML: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"), e);
        }
        if (user == null || user.isMissingNode() || user.isNull()) {
            user = YAML.createObjectNode();
        }
        if (!user.isObject()) {
            throw new ConfigException(source, java.util.List.of("the top level must be a mapping of keys"));
        }
        ObjectNode merged = defaultsTree().deepCopy();
        merge(merged, (ObjectNode) user);
        ApplianceConfig raw;
        try {
            raw = BINDER.treeToValue(merged, ApplianceConfig.class);
        } catch (JsonProcessingException e) {
            throw new ConfigException(source, describe(e), e);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(source, e.getMessage(), e);
        }
        ApplianceConfig c = withDefaultSocket(raw);
        ConfigValidator.validate(c, source);
        return c;
    }

    private static ApplianceConfig withDefaultSocket(ApplianceConfig c) {
        if (c.admin().socket() != null || c.runtimeDir() == null) {
            return c;
        }
        return new ApplianceConfig(c.trustDomain(), c.site(), c.dataDir(), c.runtimeDir(), c.mqtt(),
                new ApplianceConfig.Admin(c.runtimeDir().resolve(ApplianceConfig.ADMIN_SOCKET_NAME)), c.metrics(), c.ca(),
                c.enrollment(), c.attestation(), c.retention(), c.upstream(), c.federation(), c.outbox(), c.audit());
    }

    // A section the user left empty ("mqtt:" with nothing under it) keeps its defaults; a scalar replaces.
    private static void merge(ObjectNode base, ObjectNode over) {
        for (Iterator<Map.Entry<String, JsonNode>> it = over.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode current = base.get(e.getKey());
            JsonNode value = e.getValue();
            if (current != null && current.isObject() && value.isObject()) {
                merge((ObjectNode) current, (ObjectNode) value);
            } else if (current != null && current.isObject()
                    && (value.isNull() || (value.isTextual() && value.asText().isEmpty()))) {
                continue;
            } else {
                base.set(e.getKey(), value);
            }
        }
    }

    private static ObjectNode defaultsTree() {
        try (InputStream in = ConfigLoader.class.getResourceAsStream(DEFAULTS)) {
            if (in == null) {
                throw new IllegalStateException(DEFAULTS + " missing from the jar");
            }
            return (ObjectNode) YAML.readTree(in);
        } catch (IOException e) {
            throw new IllegalStateException("built-in defaults unreadable: " + e.getMessage(), e);
        }
    }

    static String describe(JsonProcessingException e) {
        String path = e instanceof JsonMappingException m ? path(m) : "";
        String where = path.isEmpty() ? "" : path + ": ";
        if (e instanceof UnrecognizedPropertyException u) {
            TreeSet<String> known = new TreeSet<>();
            Collection<Object> ids = u.getKnownPropertyIds();
            if (ids != null) {
                ids.forEach(id -> known.add(id.toString()));
            }
            return where + "unknown key" + (known.isEmpty() ? "" : " (known here: " + String.join(", ", known) + ")");
        }
        Throwable cause = e.getCause();
        while (cause != null) {
            if (cause instanceof IllegalArgumentException || cause instanceof DateTimeParseException) {
                return where + cause.getMessage();
            }
            cause = cause.getCause();
        }
        if (e instanceof InvalidFormatException f) {
            return where + "cannot read " + quote(f.getValue()) + " as " + typeName(f.getTargetType());
        }
        if (e instanceof MismatchedInputException m && m.getTargetType() != null) {
            return where + "expected " + typeName(m.getTargetType());
        }
        return where + e.getOriginalMessage();
    }

    private static String path(JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                if (sb.length() > 0) {
                    sb.append('.');
                }
                sb.append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.toString();
    }

    private static String typeName(Class<?> t) {
        if (t == int.class || t == Integer.class || t == long.class || t == Long.class) {
            return "a whole number";
        }
        if (t == String.class) {
            return "a string";
        }
        if (t == Duration.class) {
            return "an ISO-8601 duration (e.g. PT1H, P365D)";
        }
        if (t == Path.class) {
            return "a path";
        }
        if (t.isRecord()) {
            return "a mapping of keys";
        }
        return t.getSimpleName();
    }

    private static String quote(Object v) {
        String s = String.valueOf(v);
        return "'" + (s.length() > 60 ? s.substring(0, 60) + "…" : s) + "'";
    }

    private static ObjectMapper yamlMapper() {
        LoaderOptions lo = new LoaderOptions();
        lo.setAllowDuplicateKeys(false);
        lo.setMaxAliasesForCollections(10);
        lo.setNestingDepthLimit(20);
        lo.setCodePointLimit(MAX_BYTES);
        return new ObjectMapper(YAMLFactory.builder()
                .loaderOptions(lo)
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .build());
    }

    private static final class DurationDeserializer extends JsonDeserializer<Duration> {
        @Override
        public Duration deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            String text = p.getValueAsString();
            if (text == null) {
                return (Duration) ctxt.handleUnexpectedToken(Duration.class, p);
            }
            try {
                return Duration.parse(text.trim());
            } catch (DateTimeParseException e) {
                throw InvalidFormatException.from(p, "not an ISO-8601 duration", text, Duration.class);
            }
        }
    }

    private static final class PathDeserializer extends JsonDeserializer<Path> {
        @Override
        public Path deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            String text = p.getValueAsString();
            if (text == null || text.isBlank() || text.indexOf('\0') >= 0) {
                throw InvalidFormatException.from(p, "not a path", text, Path.class);
            }
            return Path.of(text);
        }
    }
}
