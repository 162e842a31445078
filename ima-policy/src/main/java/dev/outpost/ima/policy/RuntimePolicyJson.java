package dev.outpost.ima.policy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.outpost.tpm.HashAlg;

/**
 * Reads and writes Keylime's runtime policy JSON, applying Keylime's RUNTIME_POLICY_SCHEMA (every top-level key
 * required, generator 0..3, release ≥ 0, non-empty digest lists, dm_policy null, log_hash_alg sha1..sha512) plus
 * what the schema leaves to chance: only meta.version 1, digest lengths of real algorithms, compilable excludes,
 * no duplicate keys, bounded size and depth. Unknown top-level keys are ignored, as Keylime's schema allows them.
 */
public final class RuntimePolicyJson {
    private static final java.util.Set<String> DIGEST_MAPS = java.util.Set.of("digests", "keyrings", "ima-buf");
    private static final List<String> TOP = List.of("meta", "release", "digests", "excludes", "keyrings", "ima",
            "ima-buf", "verification-keys");

    private final PolicyLimits limits;
    private final ObjectMapper mapper;

    public RuntimePolicyJson(PolicyLimits limits) {
        this.limits = limits;
        JsonFactory f = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(limits.maxDepth())
                        .maxStringLength(limits.maxStringLength())
                        // Names are paths (PATH_MAX 4096) or keyring names: no reason to admit megabytes.
                        .maxNameLength(Math.min(limits.maxStringLength(), 1 << 16))
                        .maxNumberLength(32)
                        .maxDocumentLength(limits.maxBytes())
                        .build())
                .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                // Paths are field names: interning 100,000 unique names made loading ten times slower, and a
                // symbol table fed by untrusted names is a needless hash-flooding target.
                .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
                .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
                .build();
        this.mapper = new ObjectMapper(f);
    }

    public RuntimePolicyJson() {
        this(PolicyLimits.DEFAULT);
    }

    /** Reads at most {@code maxBytes}; a longer input is refused before it is parsed. */
    public byte[] readBounded(InputStream in) throws IOException {
        return readBounded(in, -1);
    }

    /**
     * The same, for an input of about {@code expected} bytes (a file's size): read into one array of that size, so a
     * 12 MB policy is not copied through a growing buffer (~30 MB of garbage while the list is being read).
     */
    public byte[] readBounded(InputStream in, long expected) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (expected > 0 && expected <= Math.min(limits.maxBytes(), Integer.MAX_VALUE - 16)) {
            byte[] exact = new byte[(int) expected];
            int n = in.readNBytes(exact, 0, exact.length);
            int next = n == exact.length ? in.read() : -1;
            if (n == exact.length && next < 0) {
                return exact;
            }
            out.write(exact, 0, n);
            if (next >= 0) {
                out.write(next);
            }
            if (out.size() > limits.maxBytes()) {
                throw new PolicyException("$: policy is larger than " + limits.maxBytes() + " bytes");
            }
        }
        byte[] buf = new byte[65536];
        long total = out.size();
        for (int n; (n = in.read(buf)) > 0;) {
            total += n;
            if (total > limits.maxBytes()) {
                throw new PolicyException("$: policy is larger than " + limits.maxBytes() + " bytes");
            }
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    public JsonNode tree(byte[] json, String what) {
        try {
            JsonNode n = mapper.readTree(json);
            if (n == null || n.isMissingNode()) {
                throw new PolicyException("$: " + what + " is empty");
            }
            return n;
        } catch (StreamConstraintsException e) {
            throw new PolicyException("$: " + what + " exceeds a limit: " + firstLine(e.getOriginalMessage()), e);
        } catch (IOException e) {
            throw new PolicyException("$: " + what + " is not valid JSON: " + firstLine(e.getMessage()), e);
        }
    }

    static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /**
     * Streams the three digest maps straight into the model (a 100,000-path tree would cost more than the rest of
     * the load together) and reads the small remaining members as a tree.
     */
    public RuntimePolicy read(byte[] json) {
        return read(json, null);
    }

    /**
     * The same reading with the "digests" map delivered to {@code digests} instead of the model (whose digests are
     * then empty): one token loop, so both forms accept and refuse exactly the same documents with the same messages.
     * A compiled policy is built this way with no hex String, list or map per path.
     */
    public RuntimePolicy read(byte[] json, DigestSink digests) {
        try (JsonParser p = mapper.getFactory().createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw PolicyException.at("$", "runtime policy must be a JSON object");
            }
            int[] budget = {limits.maxEntries()};
            ObjectNode rest = mapper.createObjectNode();
            Map<String, Map<String, List<String>>> maps = new LinkedHashMap<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                p.nextToken();
                if (DIGEST_MAPS.contains(name)) {
                    if (digests != null && name.equals("digests")) {
                        DigestMaps.stream(p, "$." + name, budget, digests);
                        maps.put(name, Map.of());
                    } else {
                        DigestMaps.Model model = new DigestMaps.Model();
                        DigestMaps.stream(p, "$." + name, budget, model);
                        maps.put(name, model.map());
                    }
                } else {
                    rest.set(name, mapper.readTree(p));
                }
            }
            if (p.nextToken() != null) {
                throw PolicyException.at("$", "trailing content after the policy object");
            }
            return fromParts(rest, maps, budget);
        } catch (StreamConstraintsException e) {
            throw new PolicyException("$: runtime policy exceeds a limit: " + firstLine(e.getOriginalMessage()), e);
        } catch (IOException e) {
            throw new PolicyException("$: runtime policy is not valid JSON: " + firstLine(e.getMessage()), e);
        }
    }

    /** True when the document's top level has a "payload" member, i.e. it is a DSSE envelope. */
    public boolean isEnvelope(byte[] json) {
        try (JsonParser p = mapper.getFactory().createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return false;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                if (p.currentName().equals("payload")) {
                    return true;
                }
                p.nextToken();
                p.skipChildren();
            }
            return false;
        } catch (StreamConstraintsException e) {
            throw new PolicyException("$: runtime policy exceeds a limit: " + firstLine(e.getOriginalMessage()), e);
        } catch (IOException e) {
            throw new PolicyException("$: runtime policy is not valid JSON: " + firstLine(e.getMessage()), e);
        }
    }

    private RuntimePolicy fromParts(ObjectNode root, Map<String, Map<String, List<String>>> maps, int[] budget) {
        for (String k : TOP) {
            if (!root.has(k) && !maps.containsKey(k)) {
                throw PolicyException.at("$", "'" + k + "' is a required property");
            }
        }
        JsonNode meta = object(root.get("meta"), "$.meta");
        if (!meta.has("version") || !meta.get("version").isIntegralNumber()) {
            throw PolicyException.at("$.meta.version", "required integer");
        }
        long version = meta.get("version").asLong();
        if (version != RuntimePolicy.VERSION) {
            throw PolicyException.at("$.meta.version", "unsupported runtime policy version " + version + " (only 1)");
        }
        if (!meta.has("generator") || !meta.get("generator").isIntegralNumber()) {
            throw PolicyException.at("$.meta.generator", "required integer");
        }
        long generator = meta.get("generator").asLong();
        if (generator < 0 || generator > 3) {
            throw PolicyException.at("$.meta.generator", generator + " is not in 0..3");
        }
        String timestamp = null;
        if (meta.has("timestamp")) {
            timestamp = string(meta.get("timestamp"), "$.meta.timestamp");
        }
        JsonNode rel = root.get("release");
        if (!rel.isIntegralNumber() || !rel.canConvertToLong() || rel.asLong() < 0) {
            throw PolicyException.at("$.release", "must be an integer >= 0");
        }
        Map<String, List<String>> digests = maps.get("digests");
        List<String> excludes = new ArrayList<>();
        JsonNode ex = array(root.get("excludes"), "$.excludes");
        for (int i = 0; i < ex.size(); i++) {
            String p = "$.excludes[" + i + "]";
            String r = string(ex.get(i), p);
            String bad = PythonRegex.check(r);
            if (bad != null) {
                throw PolicyException.at(p, bad);
            }
            DigestMaps.spend(budget, p);
            excludes.add(r);
        }
        Map<String, List<String>> keyrings = maps.get("keyrings");
        JsonNode ima = object(root.get("ima"), "$.ima");
        for (String k : List.of("ignored_keyrings", "log_hash_alg", "dm_policy")) {
            if (!ima.has(k)) {
                throw PolicyException.at("$.ima", "'" + k + "' is a required property");
            }
        }
        List<String> ignored = new ArrayList<>();
        JsonNode ig = array(ima.get("ignored_keyrings"), "$.ima.ignored_keyrings");
        for (int i = 0; i < ig.size(); i++) {
            ignored.add(string(ig.get(i), "$.ima.ignored_keyrings[" + i + "]"));
        }
        String alg = string(ima.get("log_hash_alg"), "$.ima.log_hash_alg");
        HashAlg logAlg = switch (alg) {
            case "sha1" -> HashAlg.SHA1;
            case "sha256" -> HashAlg.SHA256;
            case "sha384" -> HashAlg.SHA384;
            case "sha512" -> HashAlg.SHA512;
            default -> throw PolicyException.at("$.ima.log_hash_alg",
                    "'" + alg + "' is not one of sha1, sha256, sha384, sha512");
        };
        if (!ima.get("dm_policy").isNull()) {
            throw PolicyException.at("$.ima.dm_policy", "must be null (device-mapper policies are not supported)");
        }
        Map<String, List<String>> imaBuf = maps.get("ima-buf");
        String vk = string(root.get("verification-keys"), "$.verification-keys");
        if (!vk.isEmpty()) {
            VerificationKeys.parse(vk, this);
        }
        return new RuntimePolicy((int) version, (int) generator, timestamp, rel.asLong(), digests, excludes,
                keyrings, new ImaSettings(ignored, logAlg), imaBuf, vk);
    }

    static String quote(String key) {
        String k = key.length() > 200 ? key.substring(0, 200) + "..." : key;
        return "\"" + k.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    static JsonNode object(JsonNode n, String path) {
        if (n == null || !n.isObject()) {
            throw PolicyException.at(path, "must be an object");
        }
        return n;
    }

    static JsonNode array(JsonNode n, String path) {
        if (n == null || !n.isArray()) {
            throw PolicyException.at(path, "must be an array");
        }
        return n;
    }

    static String string(JsonNode n, String path) {
        if (n == null || !n.isTextual()) {
            throw PolicyException.at(path, "must be a string");
        }
        return n.textValue();
    }

    /** Writes the policy with Keylime's key order, so Keylime tools and humans diff it easily. */
    public void write(RuntimePolicy p, OutputStream out) throws IOException {
        try (JsonGenerator g = mapper.getFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeObjectFieldStart("meta");
            g.writeNumberField("version", p.version());
            g.writeNumberField("generator", p.generator());
            if (p.timestamp() != null) {
                g.writeStringField("timestamp", p.timestamp());
            }
            g.writeEndObject();
            g.writeNumberField("release", p.release());
            writeDigests(g, "digests", p.digests());
            g.writeArrayFieldStart("excludes");
            for (String e : p.excludes()) {
                g.writeString(e);
            }
            g.writeEndArray();
            writeDigests(g, "keyrings", p.keyrings());
            g.writeObjectFieldStart("ima");
            g.writeArrayFieldStart("ignored_keyrings");
            for (String k : p.ima().ignoredKeyrings()) {
                g.writeString(k);
            }
            g.writeEndArray();
            g.writeStringField("log_hash_alg", p.ima().logHashAlg().tpmName());
            g.writeNullField("dm_policy");
            g.writeEndObject();
            writeDigests(g, "ima-buf", p.imaBuf());
            g.writeStringField("verification-keys", p.verificationKeys());
            g.writeEndObject();
        }
    }

    public byte[] write(RuntimePolicy p) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            write(p, out);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toByteArray();
    }

    public String writeString(RuntimePolicy p) {
        return new String(write(p), StandardCharsets.UTF_8);
    }

    private static void writeDigests(JsonGenerator g, String name, Map<String, List<String>> m) throws IOException {
        g.writeObjectFieldStart(name);
        for (Map.Entry<String, List<String>> e : m.entrySet()) {
            g.writeArrayFieldStart(e.getKey());
            for (String d : e.getValue()) {
                g.writeString(d);
            }
            g.writeEndArray();
        }
        g.writeEndObject();
    }
}
