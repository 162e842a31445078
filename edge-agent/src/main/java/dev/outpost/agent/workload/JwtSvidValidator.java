package dev.outpost.agent.workload;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Clock;
import java.util.Base64;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * ValidateJWTSVID as the SPIFFE JWT-SVID standard wants it: a compact JWS signed (ES256, ES384 or RS256) by a key of
 * the JWT authorities of the trust domain its {@code sub} names, {@code aud} holding the audience asked for, not
 * expired. Plain JCA; every failure says which check failed.
 */
final class JwtSvidValidator {
    static final int MAX_TOKEN = 16 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Clock clock;

    JwtSvidValidator(Clock clock) {
        this.clock = clock;
    }

    record Valid(String spiffeId, ObjectNode claims) {
    }

    Valid validate(String token, String audience, Map<String, String> jwtAuthorities) throws GeneralSecurityException {
        if (token.length() > MAX_TOKEN) {
            throw new GeneralSecurityException("token over " + MAX_TOKEN + " characters");
        }
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3) {
            throw new GeneralSecurityException("not a compact JWS");
        }
        JsonNode header = json(parts[0], "header");
        JsonNode claims = json(parts[1], "claims");
        if (!(claims instanceof ObjectNode claimObject)) {
            throw new GeneralSecurityException("claims are not a JSON object");
        }
        String alg = header.path("alg").asText("");
        String jca = switch (alg) {
            case "ES256" -> "SHA256withECDSAinP1363Format";
            case "ES384" -> "SHA384withECDSAinP1363Format";
            case "RS256" -> "SHA256withRSA";
            default -> throw new GeneralSecurityException("algorithm '" + alg + "' not accepted");
        };
        String typ = header.path("typ").asText("JWT");
        if (!typ.equals("JWT") && !typ.equals("JOSE")) {
            throw new GeneralSecurityException("typ '" + typ + "' is not JWT");
        }
        String sub = claims.path("sub").asText("");
        String td = trustDomain(sub);
        String jwks = jwtAuthorities.get(td);
        if (jwks == null) {
            throw new GeneralSecurityException("no JWT authorities for trust domain " + td);
        }
        String kid = header.path("kid").asText("");
        PublicKey key = Jwks.parse(jwks).get(kid);
        if (key == null) {
            throw new GeneralSecurityException("key '" + kid + "' is not a JWT authority of " + td);
        }
        Signature s = Signature.getInstance(jca);
        s.initVerify(key);
        s.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
        if (!s.verify(b64(parts[2], "signature"))) {
            throw new GeneralSecurityException("signature does not verify");
        }
        JsonNode aud = claims.path("aud");
        boolean audOk = aud.isTextual() ? aud.asText().equals(audience) : false;
        if (aud.isArray()) {
            for (JsonNode a : aud) {
                audOk |= a.asText().equals(audience);
            }
        }
        if (!audOk) {
            throw new GeneralSecurityException("audience '" + audience + "' not in the token's aud");
        }
        if (!claims.path("exp").isNumber()) {
            throw new GeneralSecurityException("token has no exp");
        }
        if (clock.millis() / 1000 >= claims.path("exp").asLong()) {
            throw new GeneralSecurityException("token has expired");
        }
        return new Valid(sub, claimObject);
    }

    static String trustDomain(String spiffeId) throws GeneralSecurityException {
        if (!spiffeId.startsWith("spiffe://") || spiffeId.length() > 2048) {
            throw new GeneralSecurityException("sub '" + spiffeId + "' is not a SPIFFE ID");
        }
        String rest = spiffeId.substring("spiffe://".length());
        int slash = rest.indexOf('/');
        String td = slash < 0 ? rest : rest.substring(0, slash);
        if (td.isEmpty() || !td.matches("[a-z0-9._-]+") || spiffeId.contains("?") || spiffeId.contains("#")) {
            throw new GeneralSecurityException("sub '" + spiffeId + "' is not a SPIFFE ID");
        }
        return td;
    }

    private static JsonNode json(String part, String what) throws GeneralSecurityException {
        try {
            return JSON.readTree(b64(part, what));
        } catch (java.io.IOException e) {
            throw new GeneralSecurityException(what + " is not JSON");
        }
    }

    private static byte[] b64(String s, String what) throws GeneralSecurityException {
        try {
            return Base64.getUrlDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            throw new GeneralSecurityException(what + " is not base64url");
        }
    }
}
