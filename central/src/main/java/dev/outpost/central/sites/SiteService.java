package dev.outpost.central.sites;

import java.security.PublicKey;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import dev.outpost.central.bundle.TrustDomainBundle;
import dev.outpost.central.issue.Issued;
import dev.outpost.central.issue.SiteIssuer;
import dev.outpost.central.refusal.Refusal;
import dev.outpost.central.refusal.RefusedInTransaction;
import dev.outpost.central.store.Database;
import dev.outpost.central.store.FederationStore;
import dev.outpost.central.store.SiteRecord;
import dev.outpost.central.store.SiteStore;

/**
 * What an authenticated site may do: get its CA signed, renew its credential, read the bundles. The site comes
 * from its credential ({@link SiteAuthenticator}), never from the body. Blocking (JDBC).
 */
public final class SiteService {
    /** The trust domain bundle and the federated ones, at one sequence. */
    public record Bundles(long sequence, Map<String, Object> bundle, Map<String, String> federated) {
    }

    private final Database db;
    private final SiteIssuer issuer;
    private final TrustDomainBundle bundle;
    private final SiteStore sites = new SiteStore();
    private final FederationStore federation = new FederationStore();

    public SiteService(Database db, SiteIssuer issuer, TrustDomainBundle bundle) {
        this.db = db;
        this.issuer = issuer;
        this.bundle = bundle;
    }

    public Issued signSiteCa(String site, String csrPem, Long ttlSeconds) throws Refusal {
        if (ttlSeconds != null && (ttlSeconds < 3600 || ttlSeconds > Duration.ofDays(3650).toSeconds())) {
            throw Refusal.badRequest("ttlSeconds must be between 3600 and 10 years (central caps it at siteCa.maxTtl)");
        }
        PublicKey key = issuer.siteCaKey(csrPem);
        return inSiteTransaction(site, c -> issuer.signSiteCa(c, site, key, ttlSeconds == null ? null : Duration.ofSeconds(ttlSeconds)));
    }

    /**
     * The file flow (air-gapped sites, `outpost-central site sign-ca`): an operator carries the site's CSR over. The
     * site must be registered and not revoked; it need not have joined online.
     */
    public Issued signSiteCaByOperator(String site, String csrPem, Long ttlSeconds) throws Refusal {
        PublicKey key = issuer.siteCaKey(csrPem);
        try {
            return db.inTransaction(c -> {
                SiteRecord s = sites.find(c, site, true).orElseThrow(() -> new RefusedInTransaction(Refusal.notFound("no site " + site)));
                if (s.revoked()) {
                    throw new RefusedInTransaction(Refusal.forbidden("site " + site + " is revoked: " + s.reason()));
                }
                return issuer.signSiteCa(c, site, key, ttlSeconds == null ? null : Duration.ofSeconds(ttlSeconds));
            });
        } catch (RefusedInTransaction e) {
            throw e.refusal();
        }
    }

    public Issued renewCredential(String site, String csrPem) throws Refusal {
        PublicKey key = issuer.credentialKey(site, csrPem);
        return inSiteTransaction(site, c -> issuer.issueCredential(c, site, key));
    }

    public Bundles bundles() {
        return db.inTransaction(c -> {
            TrustDomainBundle.Snapshot s = bundle.snapshot(c);
            Map<String, String> fed = new LinkedHashMap<>();
            for (FederationStore.Relation r : federation.list(c)) {
                if (r.bundle() != null) {
                    fed.put(r.trustDomain(), r.bundle());
                }
            }
            return new Bundles(s.sequence(), bundle.document(s), fed);
        });
    }

    // The site row is locked and re-checked inside the transaction that signs: a revocation that lands between
    // authentication and signing wins.
    private Issued inSiteTransaction(String site, dev.outpost.central.store.SqlWork<Issued> work) throws Refusal {
        try {
            return db.inTransaction(c -> {
                SiteRecord s = sites.find(c, site, true).orElseThrow(() -> new RefusedInTransaction(Refusal.unauthenticated("no site " + site)));
                if (!SiteRecord.ACTIVE.equals(s.state())) {
                    throw new RefusedInTransaction(Refusal.forbidden("site " + site + " is " + s.state()
                            + (s.reason() == null ? "" : ": " + s.reason())));
                }
                return work.run(c);
            });
        } catch (RefusedInTransaction e) {
            issuer.audit().deny(site, "site-api", e.refusal().code() + ": " + e.refusal().getMessage());
            throw e.refusal();
        }
    }
}
