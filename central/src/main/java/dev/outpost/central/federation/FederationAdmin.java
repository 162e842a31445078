package dev.outpost.central.federation;

import java.net.URI;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.util.List;

import dev.outpost.central.store.BundleStore;
import dev.outpost.central.store.Database;
import dev.outpost.central.store.FederationStore;
import dev.outpost.spiffe.SpiffeId;
import dev.outpost.spiffe.SpiffeJwks;

/** {@code outpost-central federation add|list|remove}. Blocking (JDBC). */
public final class FederationAdmin {
    private final Database db;
    private final Clock clock;
    private final String ownTrustDomain;
    private final FederationStore store = new FederationStore();
    private final BundleStore bundle = new BundleStore();

    public FederationAdmin(Database db, Clock clock, String ownTrustDomain) {
        this.db = db;
        this.clock = clock;
        this.ownTrustDomain = ownTrustDomain;
    }

    public FederationStore.Relation add(String td, String url, String profile, String spiffeId, String bundleJson) {
        SpiffeId.checkTrustDomain(td);
        if (td.equals(ownTrustDomain)) {
            throw new IllegalArgumentException(td + " is central's own trust domain");
        }
        URI u;
        try {
            u = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--url is not a URL: " + e.getMessage());
        }
        if (!"https".equals(u.getScheme()) || u.getHost() == null) {
            throw new IllegalArgumentException("--url must be an https:// URL with a host");
        }
        if (!"https_web".equals(profile) && !"https_spiffe".equals(profile)) {
            throw new IllegalArgumentException("--profile must be https_web or https_spiffe");
        }
        if ("https_spiffe".equals(profile)) {
            if (spiffeId == null || bundleJson == null) {
                throw new IllegalArgumentException("https_spiffe needs --spiffe-id (the endpoint's SVID) and --bundle-file "
                        + "(the trust domain's bundle, obtained out of band, to verify it the first time)");
            }
            SpiffeId.parse(spiffeId);
        } else if (spiffeId != null) {
            throw new IllegalArgumentException("--spiffe-id is for https_spiffe only");
        }
        if (bundleJson != null) {
            try {
                if (SpiffeJwks.parse(bundleJson).x509Authorities().isEmpty()) {
                    throw new IllegalArgumentException("--bundle-file holds no x509-svid authority");
                }
            } catch (GeneralSecurityException e) {
                throw new IllegalArgumentException("--bundle-file: " + e.getMessage());
            }
        }
        return db.inTransaction(c -> {
            if (!store.add(c, td, url, profile, spiffeId, bundleJson)) {
                throw new IllegalArgumentException("trust domain " + td + " is already federated: remove it first");
            }
            if (bundleJson != null) {
                bundle.bump(c, clock.instant());
            }
            return store.find(c, td).orElseThrow();
        });
    }

    public List<FederationStore.Relation> list() {
        return db.inTransaction(store::list);
    }

    public void remove(String td) {
        db.inTransaction(c -> {
            if (!store.remove(c, td)) {
                throw new IllegalArgumentException("trust domain " + td + " is not federated");
            }
            bundle.bump(c, clock.instant());
            return null;
        });
    }
}
