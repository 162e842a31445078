package dev.outpost.appliance.ca;

import java.security.PublicKey;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.mqtt.protocol.SiteBundle;
import dev.outpost.spiffe.SpiffeJwks;

/**
 * The JWT authorities devices get on the retained site topic ({@code SiteBundle.jwtAuthorities}): our trust domain's
 * (the site's own JWT authority, and, when nested, every other site's keys from central's trust domain bundle) and
 * those of federated trust domains whose bundles carry JWT keys. Thread-safe; central's part is replaced whole.
 */
public final class JwtBundles {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(JwtBundles.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Key of our own trust domain in {@link #fromCentral}: central's bundle of our trust domain. */
    public static final String OWN = "";

    private final String trustDomain;
    private final JwtAuthority own;
    private volatile Map<String, Map<String, PublicKey>> fromCentral = Map.of();

    public JwtBundles(String trustDomain, JwtAuthority own) {
        this.trustDomain = trustDomain;
        this.own = own;
    }

    /**
     * Central's JWT keys: {@link #OWN} → our trust domain's (all sites'), other names → federated trust domains'.
     * Returns whether anything changed.
     */
    public boolean fromCentral(Map<String, Map<String, PublicKey>> keys) {
        Map<String, Map<String, PublicKey>> copy = new TreeMap<>();
        keys.forEach((td, k) -> {
            if (!td.equals(trustDomain)) {
                copy.put(td, Map.copyOf(k));
            }
        });
        if (copy.equals(fromCentral)) {
            return false;
        }
        fromCentral = Map.copyOf(copy);
        return true;
    }

    /** Trust domain → JWKS document, for the site bundle message; empty when there are no JWT keys at all. */
    public Map<String, String> bySiteBundle() {
        Map<String, String> out = new TreeMap<>();
        Map<String, PublicKey> ours = new LinkedHashMap<>(own.published());
        fromCentral.getOrDefault(OWN, Map.of()).forEach(ours::putIfAbsent);
        out.put(trustDomain, jwks(ours));
        for (Map.Entry<String, Map<String, PublicKey>> e : fromCentral.entrySet()) {
            if (e.getKey().equals(OWN) || e.getValue().isEmpty()) {
                continue;
            }
            // The site message holds our trust domain and at most MAX_FEDERATED others: a bigger federation must not
            // stop the bundle (X.509 roots included) from reaching devices at all.
            if (out.size() > SiteBundle.MAX_FEDERATED) {
                LOG.warn("more than {} federated trust domains carry JWT keys; {} and later ones are left out of the "
                        + "site bundle message", SiteBundle.MAX_FEDERATED, e.getKey());
                break;
            }
            out.put(e.getKey(), jwks(e.getValue()));
        }
        return out;
    }

    private static String jwks(Map<String, PublicKey> keys) {
        List<Map<String, Object>> list = new ArrayList<>();
        keys.forEach((kid, k) -> list.add(SpiffeJwks.jwtSvidKey(k, kid)));
        try {
            return JSON.writeValueAsString(Map.of("keys", list));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
