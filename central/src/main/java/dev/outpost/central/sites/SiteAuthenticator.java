package dev.outpost.central.sites;

import java.security.GeneralSecurityException;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import dev.outpost.spiffe.X509Certs;
import dev.outpost.central.ca.CentralCa;
import dev.outpost.central.ca.Certs;
import dev.outpost.central.refusal.Refusal;
import dev.outpost.central.store.Database;
import dev.outpost.central.store.IssuanceStore;
import dev.outpost.central.store.SiteRecord;
import dev.outpost.central.store.SiteStore;
import dev.outpost.spiffe.SpiffeId;

/**
 * Who is calling the site API: the TLS layer only asks for a client certificate; this decides. The chain is
 * validated here against central's roots (PKIX, at the injected clock's time, clientAuth), the SPIFFE ID must be
 * {@code spiffe://<td>/outpost/site/<name>}, the site must be active, and the certificate must be one central
 * issued to that site (its serial is in the registry). The site is never taken from a request body.
 */
public final class SiteAuthenticator {
    private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
    private static final int MAX_CHAIN = 8;

    private final CentralCa ca;
    private final Database db;
    private final Clock clock;
    private final SiteStore sites = new SiteStore();
    private final IssuanceStore issued = new IssuanceStore();

    public SiteAuthenticator(CentralCa ca, Database db, Clock clock) {
        this.ca = ca;
        this.db = db;
        this.clock = clock;
    }

    /** Cheap checks (no DB): the chain, the ID. Returns the site name the credential claims. */
    public String claimedSite(List<X509Certificate> chain) throws Refusal {
        if (chain == null || chain.isEmpty()) {
            throw Refusal.unauthenticated("no client certificate: /v1/site/ needs the site credential");
        }
        if (chain.size() > MAX_CHAIN) {
            throw Refusal.unauthenticated("client chain longer than " + MAX_CHAIN);
        }
        X509Certificate leaf = chain.get(0);
        try {
            Set<TrustAnchor> anchors = new HashSet<>();
            for (X509Certificate r : ca.roots()) {
                anchors.add(new TrustAnchor(r, null));
            }
            List<X509Certificate> path = new ArrayList<>();
            for (X509Certificate c : chain) {
                if (!X509Certs.isSelfSigned(c)) {
                    path.add(c);
                }
            }
            CertPath cp = CertificateFactory.getInstance("X.509").generateCertPath(path);
            PKIXParameters p = new PKIXParameters(anchors);
            p.setRevocationEnabled(false);
            p.setDate(Date.from(clock.instant()));
            CertPathValidator.getInstance("PKIX").validate(cp, p);
            List<String> eku = leaf.getExtendedKeyUsage();
            if (eku == null || !eku.contains(CLIENT_AUTH)) {
                throw Refusal.unauthenticated("client certificate is not for clientAuth");
            }
        } catch (GeneralSecurityException e) {
            throw Refusal.unauthenticated("client certificate does not chain to central's CA: " + e.getMessage());
        }
        SpiffeId id;
        try {
            id = Certs.spiffeId(leaf);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw Refusal.unauthenticated("client certificate is not a site credential: " + e.getMessage());
        }
        String prefix = "/outpost/site/";
        if (!id.trustDomain().equals(ca.trustDomain()) || !id.path().startsWith(prefix)
                || !SiteNames.valid(id.path().substring(prefix.length()))) {
            throw Refusal.unauthenticated("client certificate " + id + " is not a site credential of " + ca.trustDomain());
        }
        return id.path().substring(prefix.length());
    }

    /** The registry's word (blocking): the site exists, is not revoked, and this credential is one issued to it. */
    public SiteRecord authorize(String site, X509Certificate leaf) throws Refusal {
        String serial = Certs.serialHex(leaf);
        Optional<SiteRecord> s = db.inTransaction(c -> {
            Optional<SiteRecord> r = sites.find(c, site, false);
            return r.isPresent() && issued.credentialOf(c, serial, site) ? r : Optional.<SiteRecord>empty();
        });
        if (s.isEmpty()) {
            throw Refusal.unauthenticated("credential " + serial + " was not issued to a site " + site);
        }
        if (s.get().revoked()) {
            throw Refusal.forbidden("site " + site + " is revoked: " + s.get().reason());
        }
        if (!SiteRecord.ACTIVE.equals(s.get().state())) {
            throw Refusal.forbidden("site " + site + " is " + s.get().state());
        }
        return s.get();
    }
}
