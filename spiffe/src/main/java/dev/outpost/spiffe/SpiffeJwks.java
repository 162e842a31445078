package dev.outpost.spiffe;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.DeserializationFeature;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SPIFFE bundle format (SPIFFE Trust Domain and Bundle standard, section 4): a JWKS whose keys carry a
 * {@code use} of {@code x509-svid} (certificate in {@code x5c}) or {@code jwt-svid}. java-spiffe has no parser
 * for the x509 part, and the agent and federation need one.
 *
 * <p>The input comes from peers, so the parser is bounded: document size, key count, nesting depth and string
 * length, and every x509-svid entry must hold exactly one CA certificate whose key matches the JWK fields.
 */
public final class SpiffeJwks {
    private static final Logger LOG = LoggerFactory.getLogger(SpiffeJwks.class);
    public static final int MAX_BYTES = 1024 * 1024;
    public static final int MAX_KEYS = 256;
    private static final int MAX_CERT_BYTES = 16 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(8)
                    .maxStringLength(64 * 1024)
                    .maxNumberLength(20)
                    .build())
            .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);

    /**
     * What a bundle document says.
     *
     * @param jwtAuthorities the jwt-svid keys, kid → public key (EC P-256/P-384/P-521 or RSA), in document order
     */
    public record Parsed(List<X509Certificate> x509Authorities, OptionalLong sequence, OptionalLong refreshHintSeconds,
            Map<String, PublicKey> jwtAuthorities) {
        public Parsed {
            x509Authorities = List.copyOf(x509Authorities);
            jwtAuthorities = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(jwtAuthorities));
        }

        /** The jwt-svid keys as a JWKS document ({"keys":[...]}, each with use jwt-svid and its kid). */
        public String jwtAuthoritiesJwks() {
            List<Map<String, Object>> keys = new ArrayList<>();
            jwtAuthorities.forEach((kid, k) -> keys.add(jwtSvidKey(k, kid)));
            try {
                return JSON.writeValueAsString(Map.of("keys", keys));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** The longest kid accepted; Outpost's are 22 characters, SPIRE's 32. */
    public static final int MAX_KID = 128;

    private SpiffeJwks() {
    }

    public static Map<String, Object> x509SvidKey(X509Certificate cert) {
        Map<String, Object> k = new LinkedHashMap<>();
        k.put("use", "x509-svid");
        PublicKey pub = cert.getPublicKey();
        if (pub instanceof ECPublicKey ec) {
            int size = (ec.getParams().getCurve().getField().getFieldSize() + 7) / 8;
            k.put("kty", "EC");
            k.put("crv", curveName(size));
            k.put("x", b64url(unsigned(ec.getW().getAffineX(), size)));
            k.put("y", b64url(unsigned(ec.getW().getAffineY(), size)));
        } else if (pub instanceof RSAPublicKey rsa) {
            k.put("kty", "RSA");
            k.put("n", b64url(unsigned(rsa.getModulus(), 0)));
            k.put("e", b64url(unsigned(rsa.getPublicExponent(), 0)));
        } else {
            throw new IllegalArgumentException("authority key type " + pub.getAlgorithm() + " has no JWK form here");
        }
        try {
            k.put("x5c", List.of(Base64.getEncoder().encodeToString(cert.getEncoded())));
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
        return k;
    }

    /**
     * The {@code kid} Outpost gives a JWT authority key: base64url (no padding) of the first 16 bytes of the SHA-256
     * of its DER SubjectPublicKeyInfo, so anyone holding the key can recompute it (docs/workload-api.md).
     */
    public static String kidOf(PublicKey pub) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(pub.getEncoded());
            return b64url(Arrays.copyOf(d, 16));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A JWT authority as a bundle key: {@code use} jwt-svid, its {@code kid}, and the public key's JWK fields (SPIFFE
     * Trust Domain and Bundle standard, section 4.2.2).
     */
    public static Map<String, Object> jwtSvidKey(PublicKey pub, String kid) {
        if (kid == null || kid.isEmpty() || kid.length() > MAX_KID) {
            throw new IllegalArgumentException("a jwt-svid key needs a kid of 1.." + MAX_KID + " characters");
        }
        Map<String, Object> k = new LinkedHashMap<>();
        k.put("use", "jwt-svid");
        k.put("kid", kid);
        putKey(k, pub);
        return k;
    }

    private static void putKey(Map<String, Object> k, PublicKey pub) {
        if (pub instanceof ECPublicKey ec) {
            int size = (ec.getParams().getCurve().getField().getFieldSize() + 7) / 8;
            k.put("kty", "EC");
            k.put("crv", curveName(size));
            k.put("x", b64url(unsigned(ec.getW().getAffineX(), size)));
            k.put("y", b64url(unsigned(ec.getW().getAffineY(), size)));
        } else if (pub instanceof RSAPublicKey rsa) {
            k.put("kty", "RSA");
            k.put("n", b64url(unsigned(rsa.getModulus(), 0)));
            k.put("e", b64url(unsigned(rsa.getPublicExponent(), 0)));
        } else {
            throw new IllegalArgumentException("authority key type " + pub.getAlgorithm() + " has no JWK form here");
        }
    }

    /** Parses a SPIFFE bundle document; entries with other or unknown {@code use} values are skipped, as the standard asks. */
    public static Parsed parse(String json) throws GeneralSecurityException {
        if (json == null) {
            throw new GeneralSecurityException("bundle: missing");
        }
        if (json.length() > MAX_BYTES) {
            throw new GeneralSecurityException("bundle: " + json.length() + " characters, over the " + MAX_BYTES + " limit");
        }
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (Exception e) {
            throw new GeneralSecurityException("bundle: not JSON: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new GeneralSecurityException("bundle: not a JSON object");
        }
        JsonNode keys = root.get("keys");
        if (keys == null || !keys.isArray()) {
            throw new GeneralSecurityException("bundle: \"keys\" must be an array");
        }
        if (keys.size() > MAX_KEYS) {
            throw new GeneralSecurityException("bundle: " + keys.size() + " keys, over the " + MAX_KEYS + " limit");
        }
        List<X509Certificate> certs = new ArrayList<>();
        Map<String, PublicKey> jwt = new LinkedHashMap<>();
        int i = 0;
        for (Iterator<JsonNode> it = keys.elements(); it.hasNext(); i++) {
            JsonNode k = it.next();
            if (!k.isObject()) {
                throw new GeneralSecurityException("bundle: keys[" + i + "] is not an object");
            }
            String use = text(k, "use");
            if ("jwt-svid".equals(use)) {
                String kid = text(k, "kid");
                if (kid == null || kid.isEmpty() || kid.length() > MAX_KID) {
                    throw new GeneralSecurityException("bundle: keys[" + i + "]: a jwt-svid entry needs a kid of 1.."
                            + MAX_KID + " characters");
                }
                if (jwt.put(kid, jwtKey(k, "keys[" + i + "]")) != null) {
                    throw new GeneralSecurityException("bundle: keys[" + i + "]: kid " + kid + " appears twice");
                }
                continue;
            }
            if (!"x509-svid".equals(use)) {
                LOG.debug("bundle: keys[{}] has use {}, skipped", i, use);
                continue;
            }
            certs.add(x509Entry(k, "keys[" + i + "]"));
        }
        return new Parsed(certs, longField(root, "spiffe_sequence"), longField(root, "spiffe_refresh_hint"), jwt);
    }

    // A JWK public key (EC on a named NIST curve, or RSA of at least 2048 bits), read with the JDK and checked to be
    // on its curve by the JDK's key factory and by KeyPolicy.
    private static PublicKey jwtKey(JsonNode k, String where) throws GeneralSecurityException {
        String kty = text(k, "kty");
        PublicKey pub;
        try {
            if ("EC".equals(kty)) {
                String crv = text(k, "crv");
                int size = switch (String.valueOf(crv)) {
                    case "P-256" -> 32;
                    case "P-384" -> 48;
                    case "P-521" -> 66;
                    default -> throw new GeneralSecurityException("bundle: " + where + ": EC curve " + crv + " is not accepted");
                };
                byte[] x = coordinate(text(k, "x"), size, where);
                byte[] y = coordinate(text(k, "y"), size, where);
                java.security.AlgorithmParameters params = java.security.AlgorithmParameters.getInstance("EC");
                params.init(new java.security.spec.ECGenParameterSpec(switch (size) {
                    case 32 -> "secp256r1";
                    case 48 -> "secp384r1";
                    default -> "secp521r1";
                }));
                java.security.spec.ECParameterSpec spec = params.getParameterSpec(java.security.spec.ECParameterSpec.class);
                java.security.spec.ECPoint w = new java.security.spec.ECPoint(new BigInteger(1, x), new BigInteger(1, y));
                pub = java.security.KeyFactory.getInstance("EC").generatePublic(new java.security.spec.ECPublicKeySpec(w, spec));
                if (!onCurve(w, spec)) {
                    throw new GeneralSecurityException("bundle: " + where + ": the point is not on " + crv);
                }
            } else if ("RSA".equals(kty)) {
                BigInteger n = new BigInteger(1, base64Url(text(k, "n"), 1024, where));
                BigInteger e = new BigInteger(1, base64Url(text(k, "e"), 8, where));
                pub = java.security.KeyFactory.getInstance("RSA").generatePublic(new java.security.spec.RSAPublicKeySpec(n, e));
            } else {
                throw new GeneralSecurityException("bundle: " + where + ": jwt-svid key type " + kty + " is not accepted");
            }
        } catch (java.security.spec.InvalidKeySpecException | java.security.spec.InvalidParameterSpecException e) {
            throw new GeneralSecurityException("bundle: " + where + ": not a usable key: " + e.getMessage());
        }
        String weak = KeyPolicy.rejection(pub);
        if (weak != null) {
            throw new GeneralSecurityException("bundle: " + where + ": jwt-svid key refused: " + weak);
        }
        return pub;
    }

    private static boolean onCurve(java.security.spec.ECPoint w, java.security.spec.ECParameterSpec spec) {
        java.security.spec.EllipticCurve c = spec.getCurve();
        BigInteger p = ((java.security.spec.ECFieldFp) c.getField()).getP();
        BigInteger x = w.getAffineX();
        BigInteger y = w.getAffineY();
        if (x.signum() < 0 || x.compareTo(p) >= 0 || y.signum() < 0 || y.compareTo(p) >= 0) {
            return false;
        }
        return y.multiply(y).subtract(x.pow(3).add(c.getA().multiply(x)).add(c.getB())).mod(p).signum() == 0;
    }

    private static byte[] coordinate(String field, int size, String where) throws GeneralSecurityException {
        byte[] b = base64Url(field, size, where);
        if (b.length != size) {
            throw new GeneralSecurityException("bundle: " + where + ": an EC coordinate must be " + size + " bytes");
        }
        return b;
    }

    private static byte[] base64Url(String field, int max, String where) throws GeneralSecurityException {
        if (field == null) {
            throw new GeneralSecurityException("bundle: " + where + ": a key field is missing");
        }
        try {
            byte[] b = Base64.getUrlDecoder().decode(field);
            if (b.length == 0 || b.length > max) {
                throw new GeneralSecurityException("bundle: " + where + ": a key field has " + b.length + " bytes");
            }
            return b;
        } catch (IllegalArgumentException e) {
            throw new GeneralSecurityException("bundle: " + where + ": a key field is not base64url");
        }
    }

    private static X509Certificate x509Entry(JsonNode k, String where) throws GeneralSecurityException {
        JsonNode x5c = k.get("x5c");
        if (x5c == null || !x5c.isArray() || x5c.size() != 1 || !x5c.get(0).isTextual()) {
            throw new GeneralSecurityException("bundle: " + where + ": x509-svid entry must have x5c with exactly one certificate");
        }
        byte[] der;
        try {
            der = Base64.getDecoder().decode(x5c.get(0).asText());
        } catch (IllegalArgumentException e) {
            throw new GeneralSecurityException("bundle: " + where + ": x5c is not standard base64");
        }
        if (der.length > MAX_CERT_BYTES) {
            throw new GeneralSecurityException("bundle: " + where + ": certificate of " + der.length + " bytes is over the limit");
        }
        X509Certificate cert;
        try {
            cert = PemIo.certificate(der);
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new GeneralSecurityException("bundle: " + where + ": x5c is not an X.509 certificate: " + e.getMessage());
        }
        if (cert.getBasicConstraints() < 0) {
            throw new GeneralSecurityException("bundle: " + where + ": certificate is not a CA");
        }
        checkKeyMatches(k, cert.getPublicKey(), where);
        return cert;
    }

    // The JWK fields are redundant with x5c; a mismatch means a broken or tampered bundle, so refuse it.
    private static void checkKeyMatches(JsonNode k, PublicKey pub, String where) throws GeneralSecurityException {
        String kty = text(k, "kty");
        if (pub instanceof ECPublicKey ec) {
            int size = (ec.getParams().getCurve().getField().getFieldSize() + 7) / 8;
            boolean ok = "EC".equals(kty)
                    && curveName(size).equals(text(k, "crv"))
                    && sameBase64Url(text(k, "x"), unsigned(ec.getW().getAffineX(), size))
                    && sameBase64Url(text(k, "y"), unsigned(ec.getW().getAffineY(), size));
            if (!ok) {
                throw new GeneralSecurityException("bundle: " + where + ": kty/crv/x/y do not match the certificate's key");
            }
        } else if (pub instanceof RSAPublicKey rsa) {
            boolean ok = "RSA".equals(kty)
                    && sameBase64Url(text(k, "n"), unsigned(rsa.getModulus(), 0))
                    && sameBase64Url(text(k, "e"), unsigned(rsa.getPublicExponent(), 0));
            if (!ok) {
                throw new GeneralSecurityException("bundle: " + where + ": kty/n/e do not match the certificate's key");
            }
        } else {
            throw new GeneralSecurityException("bundle: " + where + ": unsupported key type " + pub.getAlgorithm());
        }
    }

    private static boolean sameBase64Url(String field, byte[] expected) {
        if (field == null) {
            return false;
        }
        try {
            return Arrays.equals(Base64.getUrlDecoder().decode(field), expected);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v != null && v.isTextual() ? v.asText() : null;
    }

    private static OptionalLong longField(JsonNode root, String field) throws GeneralSecurityException {
        JsonNode v = root.get(field);
        if (v == null) {
            return OptionalLong.empty();
        }
        if (!v.canConvertToLong() || !v.isIntegralNumber() || v.asLong() < 0) {
            throw new GeneralSecurityException("bundle: " + field + " must be a non-negative integer");
        }
        return OptionalLong.of(v.asLong());
    }

    private static String curveName(int fieldBytes) {
        return switch (fieldBytes) {
            case 32 -> "P-256";
            case 48 -> "P-384";
            case 66 -> "P-521";
            default -> throw new IllegalArgumentException("EC field of " + fieldBytes + " bytes has no JWK curve name");
        };
    }

    /** Big-endian unsigned, left-padded to {@code size} (0: minimal), as JWK coordinates and RSA fields are. */
    private static byte[] unsigned(BigInteger v, int size) {
        byte[] b = v.toByteArray();
        if (b.length > 1 && b[0] == 0) {
            b = Arrays.copyOfRange(b, 1, b.length);
        }
        if (size == 0 || b.length == size) {
            return b;
        }
        byte[] out = new byte[size];
        System.arraycopy(b, 0, out, size - b.length, b.length);
        return out;
    }

    private static String b64url(byte[] b) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
