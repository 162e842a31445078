package dev.outpost.ima.boot;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Pattern;

import javax.security.auth.x500.X500Principal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.outpost.ima.policy.PolicyException;
import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.eventlog.EventType;
import dev.outpost.tpm.eventlog.Guid;

/**
 * The measured-boot policy document (docs/measured-boot.md). Strict: unknown members, wrong types, malformed
 * digests, uncompilable regexes, duplicate keys and anything over {@link BootPolicyLimits} refuse the whole
 * document with a {@link PolicyException} naming the JSON path. A policy that half-loads would check less than
 * its author meant, silently.
 */
public final class BootPolicyJson {
    /** Value of the "kind" member, so a runtime policy or a Keylime refstate is never taken for one of ours. */
    public static final String KIND = "outpost-measured-boot-policy";
    private static final Set<String> TOP = Set.of("kind", "version", "secureBoot", "pk", "kek", "db", "dbx",
            "applications", "kernelCmdlines", "eventDigests", "pcrs");
    private static final Map<String, String> DB_KEYS = Map.of("pk", "PK", "kek", "KEK", "db", "db", "dbx", "dbx");
    private static final Pattern GUID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final Pattern SERIAL = Pattern.compile("[0-9a-f]{1,64}");
    private static final int MAX_COMMENT = 1024;

    private final BootPolicyLimits limits;
    private final ObjectMapper mapper;

    public BootPolicyJson(BootPolicyLimits limits) {
        this.limits = limits;
        JsonFactory f = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(limits.maxDepth())
                        .maxStringLength(limits.maxStringLength())
                        .maxNameLength(256)
                        .maxNumberLength(16)
                        .maxDocumentLength(limits.maxBytes())
                        .build())
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .build();
        // Trailing content would mean two documents in one file: which one did the author mean?
        this.mapper = new ObjectMapper(f).enable(SerializationFeature.INDENT_OUTPUT)
                .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    }

    public BootPolicyJson() {
        this(BootPolicyLimits.DEFAULT);
    }

    /** Reads at most {@code maxBytes} from a stream; a longer input is refused before it is parsed. */
    public BootPolicy read(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[65536];
        long total = 0;
        for (int n; (n = in.read(buf)) > 0;) {
            total += n;
            if (total > limits.maxBytes()) {
                throw new PolicyException("$: policy is larger than " + limits.maxBytes() + " bytes");
            }
            out.write(buf, 0, n);
        }
        return read(out.toByteArray());
    }

    public BootPolicy read(byte[] json) {
        if (json.length > limits.maxBytes()) {
            throw new PolicyException("$: policy is larger than " + limits.maxBytes() + " bytes");
        }
        JsonNode root;
        try {
            root = mapper.readTree(json);
        } catch (StreamConstraintsException e) {
            throw new PolicyException("$: policy exceeds a limit: " + firstLine(e.getOriginalMessage()), e);
        } catch (IOException e) {
            throw new PolicyException("$: policy is not valid JSON: " + firstLine(e.getMessage()), e);
        }
        if (root == null || root.isMissingNode()) {
            throw at("$", "policy is empty");
        }
        return policy(root);
    }

    private BootPolicy policy(JsonNode root) {
        object(root, "$", TOP);
        String kind = text(required(root, "$", "kind"), "$.kind");
        if (!kind.equals(KIND)) {
            throw at("$.kind", "must be \"" + KIND + "\", not \"" + kind + "\"");
        }
        JsonNode v = required(root, "$", "version");
        if (!v.isInt() || v.intValue() != BootPolicy.VERSION) {
            throw at("$.version", "must be " + BootPolicy.VERSION + " (the only version this verifier knows)");
        }
        String sb = text(required(root, "$", "secureBoot"), "$.secureBoot");
        BootPolicy.SecureBoot secureBoot = switch (sb) {
            case "enabled" -> BootPolicy.SecureBoot.ENABLED;
            case "any" -> BootPolicy.SecureBoot.ANY;
            default -> throw at("$.secureBoot", "must be \"enabled\" or \"any\"");
        };
        Map<String, SignatureDatabase> dbs = new TreeMap<>();
        for (Map.Entry<String, String> k : DB_KEYS.entrySet()) {
            JsonNode n = root.get(k.getKey());
            if (n != null && !n.isNull()) {
                dbs.put(k.getValue(), database(n, "$." + k.getKey()));
            }
        }
        JsonNode apps = root.get("applications");
        JsonNode cmd = root.get("kernelCmdlines");
        JsonNode pcrs = root.get("pcrs");
        JsonNode rules = root.get("eventDigests");
        return new BootPolicy(secureBoot, dbs.get("PK"), dbs.get("KEK"), dbs.get("db"), dbs.get("dbx"),
                apps == null || apps.isNull() ? null : applications(apps, "$.applications"),
                cmd == null || cmd.isNull() ? null : cmdlines(cmd, "$.kernelCmdlines"),
                rules == null || rules.isNull() ? List.of() : eventDigests(rules, "$.eventDigests"),
                pcrs == null || pcrs.isNull() ? Map.of() : pcrs(pcrs, "$.pcrs"));
    }

    private SignatureDatabase database(JsonNode n, String path) {
        object(n, path, Set.of("mode", "entries"));
        String m = text(required(n, path, "mode"), path + ".mode");
        SignatureDatabase.Mode mode = switch (m) {
            case "subset" -> SignatureDatabase.Mode.SUBSET;
            case "superset" -> SignatureDatabase.Mode.SUPERSET;
            case "exact" -> SignatureDatabase.Mode.EXACT;
            default -> throw at(path + ".mode", "must be \"subset\", \"superset\" or \"exact\"");
        };
        JsonNode entries = array(required(n, path, "entries"), path + ".entries");
        List<AllowedSignature> out = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            out.add(signature(entries.get(i), path + ".entries[" + i + "]"));
        }
        return new SignatureDatabase(mode, out);
    }

    private AllowedSignature signature(JsonNode n, String path) {
        object(n, path, Set.of("certSha256", "certSubject", "certSerial", "hashSha256", "type", "dataSha256",
                "owner", "comment"));
        Guid owner = n.has("owner") ? guid(n.get("owner"), path + ".owner") : null;
        String comment = comment(n, path);
        int forms = (n.has("certSha256") ? 1 : 0) + (n.has("certSubject") || n.has("certSerial") ? 1 : 0)
                + (n.has("hashSha256") ? 1 : 0) + (n.has("type") || n.has("dataSha256") ? 1 : 0);
        if (forms != 1) {
            throw at(path, "needs exactly one of certSha256, certSubject+certSerial, hashSha256, type+dataSha256");
        }
        if (n.has("certSha256")) {
            return new AllowedSignature(AllowedSignature.Kind.CERT_SHA256, hex(n.get("certSha256"),
                    path + ".certSha256", 32), null, null, null, owner, comment);
        }
        if (n.has("hashSha256")) {
            return new AllowedSignature(AllowedSignature.Kind.HASH_SHA256, hex(n.get("hashSha256"),
                    path + ".hashSha256", 32), null, null, null, owner, comment);
        }
        if (n.has("type")) {
            return new AllowedSignature(AllowedSignature.Kind.RAW, hex(required(n, path, "dataSha256"),
                    path + ".dataSha256", 32), null, null, guid(required(n, path, "type"), path + ".type"), owner,
                    comment);
        }
        String subject = text(required(n, path, "certSubject"), path + ".certSubject");
        try {
            new X500Principal(subject);
        } catch (IllegalArgumentException e) {
            throw at(path + ".certSubject", "not an RFC 2253 distinguished name");
        }
        String serial = text(required(n, path, "certSerial"), path + ".certSerial");
        if (!SERIAL.matcher(serial).matches()) {
            throw at(path + ".certSerial", "must be 1 to 64 lowercase hex digits");
        }
        return new AllowedSignature(AllowedSignature.Kind.CERT_SUBJECT, null, subject, new BigInteger(serial, 16),
                null, owner, comment);
    }

    private List<AllowedApplication> applications(JsonNode n, String path) {
        array(n, path);
        List<AllowedApplication> out = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            String p = path + "[" + i + "]";
            JsonNode a = n.get(i);
            object(a, p, Set.of("comment", "digests"));
            JsonNode d = required(a, p, "digests");
            object(d, p + ".digests", null);
            if (d.isEmpty()) {
                throw at(p + ".digests", "needs at least one bank");
            }
            Map<HashAlg, byte[]> digests = new EnumMap<>(HashAlg.class);
            for (Iterator<Map.Entry<String, JsonNode>> it = d.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                HashAlg bank = bank(e.getKey(), p + ".digests");
                digests.put(bank, hex(e.getValue(), p + ".digests." + e.getKey(), bank.digestSize()));
            }
            out.add(new AllowedApplication(comment(a, p), digests));
        }
        return out;
    }

    private List<CmdlineRule> cmdlines(JsonNode n, String path) {
        array(n, path);
        List<CmdlineRule> out = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            String p = path + "[" + i + "]";
            try {
                out.add(new CmdlineRule(text(n.get(i), p)));
            } catch (IllegalArgumentException e) {
                throw at(p, e.getMessage());
            }
        }
        return out;
    }

    private List<EventDigestRule> eventDigests(JsonNode n, String path) {
        array(n, path);
        List<EventDigestRule> out = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            String p = path + "[" + i + "]";
            JsonNode r = n.get(i);
            object(r, p, Set.of("comment", "pcr", "eventTypes", "eventText", "allowed"));
            JsonNode pcr = required(r, p, "pcr");
            if (!pcr.isInt() || pcr.intValue() < 0 || pcr.intValue() > 23) {
                throw at(p + ".pcr", "must be a PCR index 0..23");
            }
            JsonNode types = array(required(r, p, "eventTypes"), p + ".eventTypes");
            if (types.isEmpty()) {
                throw at(p + ".eventTypes", "needs at least one event type");
            }
            Set<Integer> raw = new java.util.HashSet<>();
            for (int t = 0; t < types.size(); t++) {
                String name = text(types.get(t), p + ".eventTypes[" + t + "]");
                EventType type;
                try {
                    type = EventType.valueOf(name);
                } catch (IllegalArgumentException e) {
                    throw at(p + ".eventTypes[" + t + "]", "unknown event type \"" + name + "\"");
                }
                raw.add(type.value());
            }
            CmdlineRule textRule = null;
            if (r.has("eventText")) {
                try {
                    textRule = new CmdlineRule(text(r.get("eventText"), p + ".eventText"));
                } catch (IllegalArgumentException e) {
                    throw at(p + ".eventText", e.getMessage());
                }
            }
            List<AllowedApplication> allowed = applications(required(r, p, "allowed"), p + ".allowed");
            out.add(new EventDigestRule(comment(r, p), pcr.intValue(), raw, textRule, allowed));
        }
        return out;
    }

    private Map<HashAlg, SortedMap<Integer, byte[]>> pcrs(JsonNode n, String path) {
        object(n, path, null);
        Map<HashAlg, SortedMap<Integer, byte[]>> out = new EnumMap<>(HashAlg.class);
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> b = it.next();
            HashAlg bank = bank(b.getKey(), path);
            String bp = path + "." + b.getKey();
            object(b.getValue(), bp, null);
            SortedMap<Integer, byte[]> values = new TreeMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> vs = b.getValue().fields(); vs.hasNext();) {
                Map.Entry<String, JsonNode> v = vs.next();
                if (!v.getKey().matches("[0-9]|1[0-9]|2[0-3]")) {
                    throw at(bp, "\"" + v.getKey() + "\" is not a PCR index 0..23");
                }
                values.put(Integer.parseInt(v.getKey()), hex(v.getValue(), bp + "." + v.getKey(),
                        bank.digestSize()));
            }
            out.put(bank, values);
        }
        return out;
    }

    // ---- writing

    public byte[] write(BootPolicy p) {
        ObjectNode o = mapper.createObjectNode();
        o.put("kind", KIND);
        o.put("version", BootPolicy.VERSION);
        o.put("secureBoot", p.secureBoot() == BootPolicy.SecureBoot.ENABLED ? "enabled" : "any");
        for (String key : List.of("pk", "kek", "db", "dbx")) {
            SignatureDatabase d = p.database(DB_KEYS.get(key));
            if (d == null) {
                o.putNull(key);
                continue;
            }
            ObjectNode dn = o.putObject(key);
            dn.put("mode", d.mode().name().toLowerCase(Locale.ROOT));
            ArrayNode es = dn.putArray("entries");
            for (AllowedSignature s : d.entries()) {
                ObjectNode e = es.addObject();
                switch (s.kind()) {
                    case CERT_SHA256 -> e.put("certSha256", HexFormat.of().formatHex(s.sha256()));
                    case HASH_SHA256 -> e.put("hashSha256", HexFormat.of().formatHex(s.sha256()));
                    case RAW -> {
                        e.put("type", s.type().text());
                        e.put("dataSha256", HexFormat.of().formatHex(s.sha256()));
                    }
                    case CERT_SUBJECT -> {
                        e.put("certSubject", s.subject());
                        e.put("certSerial", s.serial().toString(16));
                    }
                    default -> throw new IllegalStateException();
                }
                if (s.owner() != null) {
                    e.put("owner", s.owner().text());
                }
                if (s.comment() != null) {
                    e.put("comment", s.comment());
                }
            }
        }
        if (p.applications() == null) {
            o.putNull("applications");
        } else {
            writeApplications(o.putArray("applications"), p.applications());
        }
        if (p.kernelCmdlines() == null) {
            o.putNull("kernelCmdlines");
        } else {
            ArrayNode cs = o.putArray("kernelCmdlines");
            p.kernelCmdlines().forEach(r -> cs.add(r.regex()));
        }
        ArrayNode rules = o.putArray("eventDigests");
        for (EventDigestRule r : p.eventDigests()) {
            ObjectNode rn = rules.addObject();
            if (r.comment() != null) {
                rn.put("comment", r.comment());
            }
            rn.put("pcr", r.pcr());
            ArrayNode types = rn.putArray("eventTypes");
            r.eventTypes().stream().sorted().forEach(t -> types.add(EventType.nameOf(t)));
            if (r.eventText() != null) {
                rn.put("eventText", r.eventText().regex());
            }
            writeApplications(rn.putArray("allowed"), r.allowed());
        }
        ObjectNode pn = o.putObject("pcrs");
        p.pcrs().forEach((bank, values) -> {
            ObjectNode bn = pn.putObject(bank.tpmName());
            values.forEach((pcr, v) -> bn.put(Integer.toString(pcr), HexFormat.of().formatHex(v)));
        });
        try {
            return mapper.writeValueAsBytes(o);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void writeApplications(ArrayNode as, List<AllowedApplication> apps) {
        for (AllowedApplication a : apps) {
            ObjectNode an = as.addObject();
            if (a.comment() != null) {
                an.put("comment", a.comment());
            }
            ObjectNode dn = an.putObject("digests");
            a.digests().forEach((k, v) -> dn.put(k.tpmName(), HexFormat.of().formatHex(v)));
        }
    }

    // ---- helpers: each names the path and the reason

    private void object(JsonNode n, String path, Set<String> allowed) {
        if (!n.isObject()) {
            throw at(path, "must be an object, not " + type(n));
        }
        if (n.size() > limits.maxListEntries()) {
            throw at(path, "has more than " + limits.maxListEntries() + " members");
        }
        if (allowed != null) {
            for (Iterator<String> it = n.fieldNames(); it.hasNext();) {
                String k = it.next();
                if (!allowed.contains(k)) {
                    throw at(path, "unknown member \"" + k + "\"");
                }
            }
        }
    }

    private JsonNode array(JsonNode n, String path) {
        if (!n.isArray()) {
            throw at(path, "must be an array, not " + type(n));
        }
        if (n.size() > limits.maxListEntries()) {
            throw at(path, "has more than " + limits.maxListEntries() + " entries");
        }
        return n;
    }

    private static JsonNode required(JsonNode n, String path, String key) {
        JsonNode v = n.get(key);
        if (v == null) {
            throw at(path, "missing member \"" + key + "\"");
        }
        return v;
    }

    private static String text(JsonNode n, String path) {
        if (!n.isTextual()) {
            throw at(path, "must be a string, not " + type(n));
        }
        return n.textValue();
    }

    private static String comment(JsonNode n, String path) {
        if (!n.has("comment")) {
            return null;
        }
        String c = text(n.get("comment"), path + ".comment");
        if (c.length() > MAX_COMMENT) {
            throw at(path + ".comment", "longer than " + MAX_COMMENT + " characters");
        }
        return c;
    }

    private static byte[] hex(JsonNode n, String path, int bytes) {
        String s = text(n, path);
        if (s.length() != 2 * bytes || !s.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            throw at(path, "must be " + 2 * bytes + " lowercase hex digits");
        }
        return HexFormat.of().parseHex(s);
    }

    private static Guid guid(JsonNode n, String path) {
        String s = text(n, path);
        if (!GUID.matcher(s).matches()) {
            throw at(path, "must be a lowercase GUID like 8be4df61-93ca-11d2-aa0d-00e098032b8c");
        }
        return new Guid(s);
    }

    private static HashAlg bank(String name, String path) {
        return HashAlg.fromName(name).filter(a -> a.tpmName().equals(name))
                .orElseThrow(() -> at(path, "unknown bank \"" + name + "\" (sha1, sha256, sha384, sha512, sm3_256)"));
    }

    private static String type(JsonNode n) {
        return n.getNodeType().name().toLowerCase(Locale.ROOT);
    }

    private static PolicyException at(String path, String reason) {
        return new PolicyException(path + ": " + reason);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
