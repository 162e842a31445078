package dev.outpost.appliance.upstream;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.outpost.spiffe.PemIo;
import dev.outpost.spiffe.SpiffeJwks;

/**
 * The site API's bodies (docs/upward-link.md), built and parsed strictly: a response must be a JSON object with
 * {@code "v": 1}, exactly the fields the contract names (an unknown field is refused, as central refuses ours), each
 * of the right type and within limits. Pure: tested without a network.
 */
public final class SiteApiMessages {
    /** The largest response we read; a bundle of many site CAs is the big one. */
    public static final int MAX_RESPONSE_BYTES = 1024 * 1024;
    static final int MAX_PEM_CHARS = 64 * 1024;
    static final int MAX_B64_CHARS = 4 * 1024;
    static final int MAX_CERTS = 8;
    static final int MAX_FEDERATED = 64;
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(16)
                    .maxStringLength(MAX_RESPONSE_BYTES).build()).build());

    private SiteApiMessages() {
    }

    // ---- requests ----

    public static String joinTpmBegin(String site, byte[] ekPublic, byte[] ekCertificate, byte[] akPublic) {
        ObjectNode n = v1().put("site", site).put("ekPublic", b64(ekPublic)).put("akPublic", b64(akPublic));
        if (ekCertificate == null) {
            n.putNull("ekCertificate");
        } else {
            n.put("ekCertificate", b64(ekCertificate));
        }
        return n.toString();
    }

    public static String joinTpmFinish(String joinId, byte[] secret, String csrPem) {
        return v1().put("joinId", joinId).put("secret", b64(secret)).put("csr", csrPem).toString();
    }

    public static String joinToken(String site, String token, String csrPem) {
        return v1().put("site", site).put("token", token).put("csr", csrPem).toString();
    }

    public static String signCa(String csrPem, Long ttlSeconds) {
        ObjectNode n = v1().put("csr", csrPem);
        if (ttlSeconds == null) {
            n.putNull("ttlSeconds");
        } else {
            n.put("ttlSeconds", ttlSeconds);
        }
        return n.toString();
    }

    public static String renewCredential(String csrPem) {
        return v1().put("csr", csrPem).toString();
    }

    // ---- responses ----

    /** POST /v1/join/tpm/begin. */
    public record JoinChallenge(String joinId, byte[] credentialBlob, byte[] encryptedSecret, Instant expiresAt) {
    }

    /** POST /v1/join/tpm/finish and /v1/join/token. */
    public record Joined(String site, List<X509Certificate> credential, List<X509Certificate> trustBundle) {
    }

    /** POST /v1/site/ca. */
    public record SignedCa(String certificatePem, String chainPem, List<X509Certificate> trustBundle, Instant notAfter) {
    }

    /** GET /v1/site/bundle. */
    /**
     * @param jwtAuthorities trust domain (ours, whose bundle at central holds every site's JWT keys, and federated
     *                       ones) → its JWT authorities, kid → key; only trust domains that have some
     */
    public record Bundles(long sequence, List<X509Certificate> trustDomain, Map<String, List<X509Certificate>> federated,
            Map<String, Map<String, java.security.PublicKey>> jwtAuthorities) {
        public Bundles(long sequence, List<X509Certificate> trustDomain, Map<String, List<X509Certificate>> federated) {
            this(sequence, trustDomain, federated, Map.of());
        }
    }

    public static JoinChallenge joinChallenge(byte[] body) throws UpstreamException {
        JsonNode n = object(body, "joinId", "credentialBlob", "encryptedSecret", "expiresAt");
        String id = text(n, "joinId", 256);
        return new JoinChallenge(id, base64(n, "credentialBlob"), base64(n, "encryptedSecret"), instant(n, "expiresAt"));
    }

    public static Joined joined(byte[] body) throws UpstreamException {
        JsonNode n = object(body, "site", "credential", "trustBundle");
        return new Joined(text(n, "site", 63), certs(n, "credential", false), certs(n, "trustBundle", false));
    }

    public static SignedCa signedCa(byte[] body) throws UpstreamException {
        JsonNode n = object(body, "certificate", "chain", "trustBundle", "notAfter");
        String cert = text(n, "certificate", MAX_PEM_CHARS);
        certs(n, "certificate", false);
        String chain = text(n, "chain", MAX_PEM_CHARS, true);
        List<X509Certificate> roots = certs(n, "trustBundle", false);
        // The chain file for InstallCheck: intermediates above us, then the roots devices will trust.
        String chainFile = (chain == null ? "" : chain) + PemIo.encode(roots);
        return new SignedCa(cert, chainFile, roots, instant(n, "notAfter"));
    }

    public static List<X509Certificate> credential(byte[] body) throws UpstreamException {
        return certs(object(body, "credential"), "credential", false);
    }

    public static Bundles bundles(byte[] body) throws UpstreamException {
        JsonNode n = object(body, "sequence", "bundle", "federated");
        JsonNode seq = n.get("sequence");
        if (seq == null || !seq.canConvertToLong() || !seq.isIntegralNumber() || seq.asLong() < 0) {
            throw bad("sequence must be a whole number >= 0");
        }
        SpiffeJwks.Parsed ownParsed = spiffeBundle(n.get("bundle"), "bundle");
        List<X509Certificate> own = ownParsed.x509Authorities();
        Map<String, Map<String, java.security.PublicKey>> jwt = new LinkedHashMap<>();
        Map<String, List<X509Certificate>> fed = new LinkedHashMap<>();
        JsonNode f = n.get("federated");
        if (f == null || !f.isObject()) {
            throw bad("federated must be an object of trust domain to SPIFFE bundle");
        }
        if (f.size() > MAX_FEDERATED) {
            throw bad("federated holds more than " + MAX_FEDERATED + " trust domains");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = f.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            try {
                dev.outpost.spiffe.SpiffeId.checkTrustDomain(e.getKey());
            } catch (IllegalArgumentException ex) {
                throw bad("federated: " + ex.getMessage());
            }
            SpiffeJwks.Parsed p = spiffeBundle(e.getValue(), "federated." + e.getKey());
            fed.put(e.getKey(), p.x509Authorities());
            if (!p.jwtAuthorities().isEmpty()) {
                jwt.put(e.getKey(), p.jwtAuthorities());
            }
        }
        return new Bundles(seq.asLong(), own, Map.copyOf(fed), ownJwt(ownParsed, jwt));
    }

    /** Central's error body, for the message of a refusal; never trusted for anything but words. */
    static String errorMessage(byte[] body) {
        try {
            JsonNode n = JSON.readTree(new String(body, 0, Math.min(body.length, 8192), StandardCharsets.UTF_8));
            JsonNode e = n == null ? null : n.get("error");
            if (e != null && e.isObject()) {
                String code = e.path("code").asText("");
                String msg = e.path("message").asText("");
                return (code + ": " + (msg.length() > 300 ? msg.substring(0, 300) + "…" : msg)).replaceAll("\\p{Cntrl}", "?");
            }
        } catch (JsonProcessingException | RuntimeException ignored) {
            // not JSON: no words to pass on
        }
        return "no error body";
    }

    static String errorCode(byte[] body) {
        try {
            JsonNode n = JSON.readTree(new String(body, 0, Math.min(body.length, 8192), StandardCharsets.UTF_8));
            String c = n == null ? "" : n.path("error").path("code").asText("");
            return c.matches("[A-Z_]{1,40}") ? c : null;
        } catch (JsonProcessingException | RuntimeException e) {
            return null;
        }
    }

    // ---- helpers ----

    private static ObjectNode v1() {
        return JSON.createObjectNode().put("v", 1);
    }

    private static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }

    private static JsonNode object(byte[] body, String... fields) throws UpstreamException {
        if (body.length > MAX_RESPONSE_BYTES) {
            throw bad("response over " + MAX_RESPONSE_BYTES + " bytes");
        }
        JsonNode n;
        try {
            n = JSON.readTree(body);
        } catch (java.io.IOException e) {
            throw bad("response is not JSON: " + (e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()));
        }
        if (n == null || !n.isObject()) {
            throw bad("response is not a JSON object");
        }
        JsonNode v = n.get("v");
        if (v == null || !v.isInt() || v.asInt() != 1) {
            throw bad("response version must be \"v\": 1");
        }
        java.util.Set<String> allowed = new java.util.HashSet<>(List.of(fields));
        allowed.add("v");
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f)) {
                throw bad("unknown field '" + (f.length() > 40 ? f.substring(0, 40) : f) + "'");
            }
        }
        for (String f : fields) {
            if (!n.has(f)) {
                throw bad("field '" + f + "' missing");
            }
        }
        return n;
    }

    private static String text(JsonNode n, String field, int max) throws UpstreamException {
        return text(n, field, max, false);
    }

    private static String text(JsonNode n, String field, int max, boolean nullable) throws UpstreamException {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            if (nullable) {
                return null;
            }
            throw bad(field + " is required");
        }
        if (!v.isTextual() || v.asText().length() > max) {
            throw bad(field + " must be a string of at most " + max + " characters");
        }
        return v.asText();
    }

    private static byte[] base64(JsonNode n, String field) throws UpstreamException {
        String t = text(n, field, MAX_B64_CHARS);
        try {
            return Base64.getDecoder().decode(t);
        } catch (IllegalArgumentException e) {
            throw bad(field + " is not base64");
        }
    }

    private static Instant instant(JsonNode n, String field) throws UpstreamException {
        try {
            return Instant.parse(text(n, field, 64));
        } catch (DateTimeParseException e) {
            throw bad(field + " is not an RFC 3339 time");
        }
    }

    private static List<X509Certificate> certs(JsonNode n, String field, boolean emptyOk) throws UpstreamException {
        String pem = text(n, field, MAX_PEM_CHARS);
        try {
            List<X509Certificate> c = PemIo.certificates(pem, MAX_CERTS);
            if (c.isEmpty() && !emptyOk) {
                throw bad(field + " holds no PEM certificate");
            }
            return c;
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw bad(field + " is not PEM certificates: " + e.getMessage());
        }
    }

    // Our own trust domain's JWT keys sit under a key of their own: the map's trust domain names come from central.
    private static Map<String, Map<String, java.security.PublicKey>> ownJwt(SpiffeJwks.Parsed own,
            Map<String, Map<String, java.security.PublicKey>> federated) {
        Map<String, Map<String, java.security.PublicKey>> all = new LinkedHashMap<>(federated);
        if (!own.jwtAuthorities().isEmpty()) {
            all.put(OWN_TRUST_DOMAIN, own.jwtAuthorities());
        }
        return Map.copyOf(all);
    }

    /** The key of our own trust domain's JWT keys in {@link Bundles#jwtAuthorities()} (not a trust domain name). */
    public static final String OWN_TRUST_DOMAIN = dev.outpost.appliance.ca.JwtBundles.OWN;

    private static SpiffeJwks.Parsed spiffeBundle(JsonNode n, String field) throws UpstreamException {
        if (n == null || !n.isObject()) {
            throw bad(field + " must be a SPIFFE bundle (a JSON object)");
        }
        try {
            return SpiffeJwks.parse(JSON.writeValueAsString(n));
        } catch (GeneralSecurityException | JsonProcessingException | IllegalArgumentException e) {
            throw bad(field + ": " + e.getMessage());
        }
    }

    private static UpstreamException bad(String why) {
        return new UpstreamException(0, null, "central's response refused: " + why);
    }
}
