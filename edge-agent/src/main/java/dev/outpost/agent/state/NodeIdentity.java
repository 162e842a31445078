package dev.outpost.agent.state;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The node key, its X509-SVID chain (leaf first) and the trust bundle it came with.
 */
public record NodeIdentity(PrivateKey key, List<X509Certificate> chain, List<X509Certificate> bundle) {

    public X509Certificate leaf() {
        return chain.get(0);
    }

    public Instant notBefore() {
        return leaf().getNotBefore().toInstant();
    }

    public Instant notAfter() {
        return leaf().getNotAfter().toInstant();
    }

    /** When to renew: after {@code fraction} of the lifetime. */
    public Instant renewAt(double fraction) {
        Duration life = Duration.between(notBefore(), notAfter());
        return notBefore().plusMillis((long) (life.toMillis() * fraction));
    }

    /** A probationary SVID from enrollment: the node SVID comes with the first passing attestation. */
    public boolean probationary() {
        String id = spiffeId();
        return id != null && id.contains("/agent/enrolling/");
    }

    public boolean validAt(Instant t) {
        return !t.isBefore(notBefore()) && t.isBefore(notAfter());
    }

    /** The single URI SAN of the leaf, or null. */
    public String spiffeId() {
        try {
            var sans = leaf().getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (Integer.valueOf(6).equals(san.get(0))) {
                        return (String) san.get(1);
                    }
                }
            }
        } catch (java.security.cert.CertificateParsingException ignored) {
            // no SAN we can read means no SPIFFE ID
        }
        return null;
    }
}
