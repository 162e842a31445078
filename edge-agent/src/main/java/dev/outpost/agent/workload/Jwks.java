package dev.outpost.agent.workload;

import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The public keys of a JWKS document (a trust domain's JWT authorities) by {@code kid}, as JCA keys: EC P-256/P-384
 * and RSA. Keys of other kinds, or with {@code use} other than {@code jwt-svid} (when present), are skipped; a
 * document over the limits is refused whole.
 */
final class Jwks {
    static final int MAX_BYTES = 256 * 1024;
    static final int MAX_KEYS = 64;
    private static final ObjectMapper JSON = new ObjectMapper();

    private Jwks() {
    }

    static Map<String, PublicKey> parse(String jwks) throws GeneralSecurityException {
        if (jwks.length() > MAX_BYTES) {
            throw new GeneralSecurityException("JWKS over " + MAX_BYTES + " bytes");
        }
        JsonNode keys;
        try {
            keys = JSON.readTree(jwks).path("keys");
        } catch (java.io.IOException e) {
            throw new GeneralSecurityException("JWKS is not JSON");
        }
        if (!keys.isArray() || keys.size() > MAX_KEYS) {
            throw new GeneralSecurityException("JWKS: a keys array of at most " + MAX_KEYS + " expected");
        }
        Map<String, PublicKey> out = new HashMap<>();
        for (JsonNode k : keys) {
            String kid = k.path("kid").asText("");
            String use = k.path("use").asText("jwt-svid");
            if (kid.isEmpty() || !use.equals("jwt-svid")) {
                continue;
            }
            PublicKey key = switch (k.path("kty").asText("")) {
                case "EC" -> ec(k);
                case "RSA" -> rsa(k);
                default -> null;
            };
            if (key != null) {
                out.put(kid, key);
            }
        }
        return out;
    }

    private static PublicKey ec(JsonNode k) throws GeneralSecurityException {
        String curve = switch (k.path("crv").asText("")) {
            case "P-256" -> "secp256r1";
            case "P-384" -> "secp384r1";
            default -> null;
        };
        if (curve == null) {
            return null;
        }
        AlgorithmParameters p = AlgorithmParameters.getInstance("EC");
        p.init(new ECGenParameterSpec(curve));
        ECParameterSpec spec = p.getParameterSpec(ECParameterSpec.class);
        ECPoint w = new ECPoint(number(k, "x"), number(k, "y"));
        return KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(w, spec));
    }

    private static PublicKey rsa(JsonNode k) throws GeneralSecurityException {
        BigInteger n = number(k, "n");
        if (n.bitLength() < 2048 || n.bitLength() > 8192) {
            throw new GeneralSecurityException("JWKS: RSA key of " + n.bitLength() + " bits");
        }
        return KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(n, number(k, "e")));
    }

    private static BigInteger number(JsonNode k, String field) throws GeneralSecurityException {
        String v = k.path(field).asText("");
        if (v.isEmpty() || v.length() > 2048) {
            throw new GeneralSecurityException("JWKS key " + k.path("kid").asText() + ": bad " + field);
        }
        try {
            return new BigInteger(1, Base64.getUrlDecoder().decode(v));
        } catch (IllegalArgumentException e) {
            throw new GeneralSecurityException("JWKS key " + k.path("kid").asText() + ": " + field + " is not base64url");
        }
    }
}
