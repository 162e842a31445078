package dev.outpost.appliance.ca;

import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.outpost.spiffe.SpiffeId;
import dev.outpost.spiffe.SpiffeJwks;
import dev.outpost.spiffe.PemIo;

/**
 * The X.509 authorities of one trust domain, as handed to devices and federated peers: PEM for TLS stacks
 * and the SPIFFE bundle format (a JWKS with {@code use: x509-svid} entries, and {@code use: jwt-svid} ones for the
 * JWT authorities when given).
 */
public final class TrustBundle {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String trustDomain;
    private final List<X509Certificate> authorities;
    private List<Map<String, Object>> jwtKeys = List.of();

    /** This bundle with JWT authorities too: bundle keys with {@code use} jwt-svid (see JwtAuthority#bundleKeys). */
    public TrustBundle withJwtKeys(List<Map<String, Object>> keys) {
        TrustBundle b = new TrustBundle(trustDomain, authorities);
        b.jwtKeys = List.copyOf(keys);
        return b;
    }

    public TrustBundle(String trustDomain, List<X509Certificate> authorities) {
        SpiffeId.checkTrustDomain(trustDomain);
        if (authorities.isEmpty()) {
            throw new IllegalArgumentException("a trust bundle needs at least one authority");
        }
        this.trustDomain = trustDomain;
        this.authorities = List.copyOf(authorities);
    }

    /** The bundle that verifies what {@code ca} issues. */
    public static TrustBundle of(SiteCa ca) {
        return new TrustBundle(ca.trustDomain(), ca.trustAnchors());
    }

    public String trustDomain() {
        return trustDomain;
    }

    public List<X509Certificate> authorities() {
        return authorities;
    }

    public String pem() {
        return PemIo.encode(authorities);
    }

    /**
     * The SPIFFE bundle: one {@code x509-svid} key per authority, with the certificate in {@code x5c}.
     *
     * @param sequence    increases with every change so peers can tell a newer bundle from an older one
     * @param refreshHint how often peers should look for a new one
     */
    public String spiffeJwks(long sequence, Duration refreshHint) {
        if (sequence < 0) {
            throw new IllegalArgumentException("spiffe_sequence must not be negative, got " + sequence);
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        List<Map<String, Object>> keys = new java.util.ArrayList<>(authorities.stream().map(SpiffeJwks::x509SvidKey).toList());
        keys.addAll(jwtKeys);
        doc.put("keys", keys);
        doc.put("spiffe_sequence", sequence);
        doc.put("spiffe_refresh_hint", refreshHint.toSeconds());
        try {
            return JSON.writeValueAsString(doc);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The x509-svid authorities of a SPIFFE bundle document; see {@link SpiffeJwks#parse} for the limits. */
    public static List<X509Certificate> parseSpiffeJwks(String json) throws GeneralSecurityException {
        return SpiffeJwks.parse(json).x509Authorities();
    }
}
