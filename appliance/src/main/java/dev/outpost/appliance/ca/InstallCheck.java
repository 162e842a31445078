package dev.outpost.appliance.ca;

import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import dev.outpost.spiffe.SpiffeId;
import dev.outpost.spiffe.X509Certs;

/**
 * Decides whether a certificate signed for our pending key may become a site CA, before anything is written. Every
 * refusal says what is wrong in terms the person holding the upstream CA can act on. Pure: no files, no clock of its
 * own.
 */
public final class InstallCheck {
    /** A certificate whose start is this far in the future is refused: its issuer's clock (or ours) is wrong. */
    static final Duration MAX_FUTURE_START = Duration.ofMinutes(5);
    private static final int MAX_DEPTH = 8;

    private InstallCheck() {
    }

    /**
     * @param chain our certificate, then intermediates up to but not including the root (what {@code ca.crt} holds)
     * @param roots the self-signed root(s) devices will trust ({@code upstream-roots.pem})
     */
    public record Accepted(List<X509Certificate> chain, List<X509Certificate> roots) {
        public X509Certificate certificate() {
            return chain.get(0);
        }
    }

    /**
     * @param certs       the certificate file: our CA certificate first, optionally followed by intermediates
     * @param chainFile   the certificates above it, ending at the root(s) devices will trust; may also be empty when
     *                    {@code certs} is itself self-signed (standalone rotation)
     */
    public static Accepted check(PrivateKey pendingKey, List<X509Certificate> certs, List<X509Certificate> chainFile,
            String trustDomain, Instant now) {
        if (certs.isEmpty()) {
            throw new CaException("the certificate file holds no certificate");
        }
        X509Certificate cert = certs.get(0);
        try {
            if (!X509Certs.belongTogether(pendingKey, cert.getPublicKey())) {
                throw new CaException("the certificate (" + cert.getSubjectX500Principal() + ") is not for this site's "
                        + "pending CA key: it was signed for another CSR; sign the CSR from `outpost-appliance ca csr`");
            }
        } catch (GeneralSecurityException e) {
            throw new CaException("the certificate's key cannot be compared with the pending key: " + e.getMessage(), e);
        }
        if (cert.getBasicConstraints() < 0) {
            throw new CaException("the certificate is not a CA (basicConstraints cA=false): sign it with "
                    + "basicConstraints=critical,CA:true,pathlen:0");
        }
        boolean[] ku = cert.getKeyUsage();
        if (ku == null || ku.length <= 5 || !ku[5]) {
            throw new CaException("the certificate lacks keyUsage keyCertSign: sign it with "
                    + "keyUsage=critical,keyCertSign,cRLSign");
        }
        String td;
        try {
            td = SiteCa.trustDomainOf(cert);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new CaException("the certificate's URI SAN is not a SPIFFE ID: " + e.getMessage(), e);
        }
        if (!trustDomain.equals(td)) {
            throw new CaException("the certificate is for trust domain '" + td + "' but this site is '" + trustDomain
                    + "': its URI SAN must be spiffe://" + trustDomain);
        }
        Instant notAfter = cert.getNotAfter().toInstant();
        if (!now.isBefore(notAfter)) {
            throw new CaException("the certificate expired at " + notAfter);
        }
        if (cert.getNotBefore().toInstant().isAfter(now.plus(MAX_FUTURE_START))) {
            throw new CaException("the certificate is not valid before " + cert.getNotBefore().toInstant()
                    + " (now " + now + "): check the clocks");
        }

        List<X509Certificate> pool = new ArrayList<>(certs.subList(1, certs.size()));
        pool.addAll(chainFile);
        List<X509Certificate> roots = new ArrayList<>();
        for (X509Certificate c : chainFile) {
            if (X509Certs.isSelfSigned(c)) {
                roots.add(c);
            }
        }
        if (X509Certs.isSelfSigned(cert)) {
            // A site CA that is its own root (standalone): nothing above it to verify.
            return new Accepted(List.of(cert), SiteCa.distinct(roots));
        }
        if (roots.isEmpty()) {
            throw new CaException("the chain file holds no self-signed root: it must end at the root the devices will "
                    + "trust");
        }
        List<X509Certificate> path = pathUp(cert, pool);
        X509Certificate top = path.get(path.size() - 1);
        X509Certificate root = roots.stream().filter(r -> X509Certs.issuedBy(top, r)).findFirst().orElseThrow(() ->
                new CaException("the chain does not verify: no root in the chain file signed "
                        + top.getSubjectX500Principal() + " (issuer " + top.getIssuerX500Principal() + ")"));
        validate(path, root, now);
        return new Accepted(List.copyOf(path), SiteCa.distinct(roots));
    }

    /** Our certificate, then each issuer found in the pool, until the next issuer is a root. */
    private static List<X509Certificate> pathUp(X509Certificate cert, List<X509Certificate> pool) {
        List<X509Certificate> path = new ArrayList<>();
        path.add(cert);
        Set<X509Certificate> used = new HashSet<>();
        X509Certificate cur = cert;
        while (path.size() <= MAX_DEPTH) {
            X509Certificate issuer = null;
            for (X509Certificate c : pool) {
                if (!used.contains(c) && X509Certs.issuedBy(cur, c)) {
                    issuer = c;
                    break;
                }
            }
            if (issuer == null) {
                throw new CaException("the chain does not verify: nothing in the files signed "
                        + cur.getSubjectX500Principal() + " (issuer " + cur.getIssuerX500Principal() + ")");
            }
            if (X509Certs.isSelfSigned(issuer)) {
                return path;
            }
            used.add(issuer);
            path.add(issuer);
            cur = issuer;
        }
        throw new CaException("the chain is longer than " + MAX_DEPTH + " certificates");
    }

    /** The JDK's PKIX rules over the path (validity of every certificate, CA flags, path lengths, critical extensions). */
    private static void validate(List<X509Certificate> path, X509Certificate root, Instant now) {
        try {
            PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
            params.setRevocationEnabled(false);
            params.setDate(Date.from(now));
            CertPathValidator.getInstance("PKIX").validate(
                    CertificateFactory.getInstance("X.509").generateCertPath(path), params);
        } catch (GeneralSecurityException e) {
            throw new CaException("the chain does not verify up to " + root.getSubjectX500Principal() + ": "
                    + e.getMessage(), e);
        }
        if (!now.isBefore(root.getNotAfter().toInstant())) {
            throw new CaException("the root " + root.getSubjectX500Principal() + " expired at "
                    + root.getNotAfter().toInstant());
        }
    }

    /** A SPIFFE ID check shared with the CSR: the site CA names the trust domain and nothing else. */
    static String trustDomainId(String trustDomain) {
        return SpiffeId.ofTrustDomain(trustDomain).toString();
    }
}
