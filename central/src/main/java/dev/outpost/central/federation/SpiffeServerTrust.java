package dev.outpost.central.federation;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Arrays;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

import dev.outpost.central.ca.Certs;
import dev.outpost.spiffe.SpiffeId;

/**
 * https_spiffe server authentication (SPIFFE Federation §5.2): the endpoint's certificate must be an X509-SVID
 * carrying exactly the configured SPIFFE ID and chaining to the last known bundle of that trust domain. There is
 * no host name check: the SPIFFE ID is the name. Extending {@link X509ExtendedTrustManager} keeps the JDK from
 * adding its own host name check on top.
 */
final class SpiffeServerTrust extends X509ExtendedTrustManager {
    private final SpiffeId expected;
    private final List<X509Certificate> authorities;
    private final Clock clock;

    SpiffeServerTrust(SpiffeId expected, List<X509Certificate> authorities, Clock clock) {
        this.expected = expected;
        this.authorities = List.copyOf(authorities);
        this.clock = clock;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new CertificateException("bundle endpoint sent no certificate");
        }
        SpiffeId id;
        try {
            id = Certs.spiffeId(chain[0]);
        } catch (IllegalArgumentException e) {
            throw new CertificateException("bundle endpoint certificate is not an X509-SVID: " + e.getMessage());
        }
        if (!expected.equals(id)) {
            throw new CertificateException("bundle endpoint is " + id + ", not the configured " + expected);
        }
        if (chain[0].getBasicConstraints() >= 0) {
            throw new CertificateException("bundle endpoint certificate is a CA, not an SVID");
        }
        if (authorities.isEmpty()) {
            throw new CertificateException("no bundle of " + expected.trustDomain() + " to verify the endpoint with");
        }
        try {
            Set<TrustAnchor> anchors = new HashSet<>();
            for (X509Certificate a : authorities) {
                anchors.add(new TrustAnchor(a, null));
            }
            List<X509Certificate> path = Arrays.stream(chain).filter(c -> !authorities.contains(c)).toList();
            CertPath cp = CertificateFactory.getInstance("X.509").generateCertPath(path);
            PKIXParameters p = new PKIXParameters(anchors);
            p.setRevocationEnabled(false);
            p.setDate(Date.from(clock.instant()));
            CertPathValidator.getInstance("PKIX").validate(cp, p);
        } catch (GeneralSecurityException e) {
            throw new CertificateException("bundle endpoint SVID does not chain to the known bundle of "
                    + expected.trustDomain() + ": " + e.getMessage());
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("client side only");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        throw new CertificateException("client side only");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        throw new CertificateException("client side only");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }
}
