package dev.outpost.mqtt.protocol;

import static com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Appliance → devices, retained on {@code <prefix>/site/bundle}: the trust anchors of the site's trust domain and
 * of the trust domains it federates with. A device replaces its trust only when {@code sequence} moves forward, so a
 * stale retained copy (a broker restored from backup, a second appliance that lags) never rolls trust back.
 *
 * <p>PEM, not the SPIFFE JWKS: the device stores and uses certificates, and PEM is what its TLS stack takes. The
 * message is bigger than a request may be (a federated company can have many roots), so it has its own limits.
 *
 * @param trustDomain     the site's trust domain: a device ignores a bundle for another one
 * @param sequence        moves on every change of any part (the site's or a federated bundle)
 * @param x509Authorities PEM certificates trusted for SVIDs of {@code trustDomain}
 * @param federated       trust domain → PEM certificates trusted for its SVIDs; empty when none
 * @param jwtAuthorities  trust domain (the site's own and federated ones) → its JWT authorities as a JWKS document
 *                        ({@code {"keys":[...]}}, each key with a {@code kid}), what the Workload API's
 *                        FetchJWTBundles serves and ValidateJWTSVID checks against; absent when the site has none
 */
public record SiteBundle(int v, String trustDomain, long sequence, String x509Authorities, Map<String, String> federated,
        @OptionalField @JsonInclude(NON_NULL) Map<String, String> jwtAuthorities)
        implements Messages {
    /** Big enough for a few hundred CA certificates; a device reads it once per change. */
    public static final Limits LIMITS = new Limits(1024 * 1024, 1024 * 1024, 4);
    public static final int MAX_FEDERATED = 64;
    private static final Pattern TRUST_DOMAIN = Pattern.compile("[a-z0-9._-]{1,255}");

    public SiteBundle {
        if (trustDomain == null || !TRUST_DOMAIN.matcher(trustDomain).matches()) {
            throw new IllegalArgumentException("trustDomain is not a SPIFFE trust domain name");
        }
        if (sequence < 0) {
            throw new IllegalArgumentException("sequence must not be negative");
        }
        if (x509Authorities == null || x509Authorities.isBlank()) {
            throw new IllegalArgumentException("x509Authorities is empty: a bundle that trusts nothing is refused");
        }
        federated = federated == null ? Map.of() : federated;
        if (federated.size() > MAX_FEDERATED) {
            throw new IllegalArgumentException(federated.size() + " federated trust domains, the limit is " + MAX_FEDERATED);
        }
        for (Map.Entry<String, String> e : federated.entrySet()) {
            if (e.getKey() == null || !TRUST_DOMAIN.matcher(e.getKey()).matches() || e.getKey().equals(trustDomain)) {
                throw new IllegalArgumentException("federated trust domain '" + e.getKey() + "' is not a valid other trust domain");
            }
            if (e.getValue() == null || e.getValue().isBlank()) {
                throw new IllegalArgumentException("federated trust domain " + e.getKey() + " has no authorities");
            }
        }
        federated = new TreeMap<>(federated);
        if (jwtAuthorities != null) {
            if (jwtAuthorities.size() > MAX_FEDERATED + 1) {
                throw new IllegalArgumentException(jwtAuthorities.size() + " JWT authority sets, the limit is " + (MAX_FEDERATED + 1));
            }
            for (Map.Entry<String, String> e : jwtAuthorities.entrySet()) {
                if (e.getKey() == null || !TRUST_DOMAIN.matcher(e.getKey()).matches()) {
                    throw new IllegalArgumentException("JWT authorities for '" + e.getKey() + "': not a trust domain name");
                }
                if (e.getValue() == null || e.getValue().isBlank()) {
                    throw new IllegalArgumentException("JWT authorities for " + e.getKey() + " are empty");
                }
            }
            jwtAuthorities = new TreeMap<>(jwtAuthorities);
        }
    }

    public SiteBundle(int v, String trustDomain, long sequence, String x509Authorities, Map<String, String> federated) {
        this(v, trustDomain, sequence, x509Authorities, federated, null);
    }

    public static SiteBundle of(String trustDomain, long sequence, String x509Authorities) {
        return new SiteBundle(VERSION, trustDomain, sequence, x509Authorities, Map.of());
    }
}
