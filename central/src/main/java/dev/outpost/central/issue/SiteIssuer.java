package dev.outpost.central.issue;

import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.central.ca.CentralCa;
import dev.outpost.central.ca.Certs;
import dev.outpost.central.ca.CsrPolicy;
import dev.outpost.central.refusal.Refusal;
import dev.outpost.central.store.BundleStore;
import dev.outpost.central.store.Database;
import dev.outpost.central.store.IssuanceStore;
import dev.outpost.spiffe.CsrException;
import dev.outpost.spiffe.PemIo;
import dev.outpost.spiffe.SpiffeId;

/**
 * Signs what a site asks for, records it, and moves the bundle sequence when the bundle changes: site CAs and
 * site credentials. Blocking (JDBC): workers only.
 */
public final class SiteIssuer {
    private static final Logger LOG = LoggerFactory.getLogger(SiteIssuer.class);

    private final CentralCa ca;
    private final Database db;
    private final Clock clock;
    private final Duration siteCaMaxTtl;
    private final Duration credentialTtl;
    private final IssuanceStore issued = new IssuanceStore();
    private final BundleStore bundle = new BundleStore();
    private final dev.outpost.central.store.Audit audit;

    public SiteIssuer(CentralCa ca, Database db, Clock clock, Duration siteCaMaxTtl, Duration credentialTtl) {
        this.ca = ca;
        this.db = db;
        this.clock = clock;
        this.siteCaMaxTtl = siteCaMaxTtl;
        this.credentialTtl = credentialTtl;
        this.audit = new dev.outpost.central.store.Audit(db, clock);
    }

    public dev.outpost.central.store.Audit audit() {
        return audit;
    }

    /** The key of a credential CSR, refused with the reason when the CSR asks for anything. */
    public PublicKey credentialKey(String site, String csrPem) throws Refusal {
        return key(csrPem, CentralCa.siteId(ca.trustDomain(), site).toString());
    }

    public PublicKey siteCaKey(String csrPem) throws Refusal {
        return key(csrPem, SpiffeId.ofTrustDomain(ca.trustDomain()).toString());
    }

    private static PublicKey key(String csrPem, String allowedUri) throws Refusal {
        try {
            return CsrPolicy.keyOf(csrPem, allowedUri);
        } catch (CsrException e) {
            throw Refusal.badRequest(e.getMessage());
        } catch (IllegalArgumentException e) {
            throw Refusal.badRequest("csr: " + e.getMessage());
        }
    }

    /** Issues and records a site credential on the caller's connection (inside a join or renewal transaction). */
    public Issued issueCredential(Connection c, String site, PublicKey key) throws SQLException {
        X509Certificate cert = ca.issueSiteCredential(site, key, credentialTtl);
        issued.recordCredential(c, Certs.serialHex(cert), site, cert.getNotAfter().toInstant(), clock.instant());
        audit.allow(c, site, "credential", "site credential " + Certs.serialHex(cert) + " until " + cert.getNotAfter().toInstant());
        LOG.info("site {}: credential {} issued, until {}", site, Certs.serialHex(cert), cert.getNotAfter().toInstant());
        return new Issued(cert, ca.intermediates(), ca.roots());
    }

    /** Signs a site CA; the caller has checked the site is active. Recorded and merged into the bundle at once. */
    public Issued signSiteCa(Connection c, String site, PublicKey key, Duration requested) throws SQLException {
        X509Certificate cert = ca.signSiteCa(site, key, requested, siteCaMaxTtl);
        issued.recordSiteCa(c, Certs.serialHex(cert), site, PemIo.encode(java.util.List.of(cert)), cert.getNotAfter().toInstant(),
                clock.instant());
        bundle.bump(c, clock.instant());
        audit.allow(c, site, "site-ca", "site CA " + Certs.serialHex(cert) + " until " + cert.getNotAfter().toInstant());
        LOG.info("site {}: site CA {} signed, until {}", site, Certs.serialHex(cert), cert.getNotAfter().toInstant());
        return new Issued(cert, ca.intermediates(), ca.roots());
    }

    public Database db() {
        return db;
    }

    public CentralCa ca() {
        return ca;
    }
}
