package dev.outpost.mqtt.protocol.transport;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import javax.net.ssl.CertPathTrustManagerParameters;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The JDK's PKIX trust manager (chain, signatures, TLS key usage, algorithm constraints) over fixed anchors, with
 * certificate validity judged at the instant of an injected {@link Clock} instead of the JVM's wall clock. The appliance
 * issues SVIDs and decides everything else by its clock; TLS on the device link has to agree with it, or a site whose
 * time a test moves (or whose clock is set by an operator) would refuse certificates it just issued as "not yet valid".
 * A fresh JDK trust manager is made for each check (its date is fixed at construction); that costs microseconds against
 * a handshake's milliseconds. No revocation checking: SVIDs are short-lived and the appliance refuses revoked devices
 * itself.
 */
public final class ClockedTrust extends X509ExtendedTrustManager {
    private final Set<TrustAnchor> anchors;
    private final X509Certificate[] issuers;
    private final Clock clock;
    private final String sigProvider;

    private ClockedTrust(List<X509Certificate> anchors, Clock clock, String sigProvider) {
        if (anchors.isEmpty()) {
            throw new IllegalArgumentException("no trust anchor");
        }
        Set<TrustAnchor> set = new LinkedHashSet<>();
        List<X509Certificate> issuers = new java.util.ArrayList<>();
        for (X509Certificate c : anchors) {
            X509Certificate a = Providers.keepsItsKey(c, sigProvider);
            set.add(new TrustAnchor(a, null));
            issuers.add(a);
        }
        this.anchors = Set.copyOf(set);
        this.issuers = issuers.toArray(new X509Certificate[0]);
        this.clock = clock;
        this.sigProvider = sigProvider;
    }

    /**
     * @param sigProvider the provider that verifies signatures (by name), or null for the JDK's default
     * @throws IllegalArgumentException when there is no anchor
     */
    public static ClockedTrust of(List<X509Certificate> anchors, Clock clock, String sigProvider) {
        return new ClockedTrust(List.copyOf(anchors), java.util.Objects.requireNonNull(clock, "clock"), sigProvider);
    }

    private X509ExtendedTrustManager atNow() throws CertificateException {
        try {
            PKIXBuilderParameters params = new PKIXBuilderParameters(anchors, new X509CertSelector());
            params.setRevocationEnabled(false);
            if (sigProvider != null) {
                params.setSigProvider(sigProvider);
            }
            params.setDate(Date.from(clock.instant()));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(new CertPathTrustManagerParameters(params));
            for (TrustManager tm : tmf.getTrustManagers()) {
                if (tm instanceof X509ExtendedTrustManager x) {
                    return x;
                }
            }
        } catch (GeneralSecurityException e) {
            // Fail closed: a trust manager that cannot be built trusts nothing.
            throw new CertificateException("trust anchors unusable: " + e.getMessage(), e);
        }
        throw new CertificateException("no X509 trust manager from PKIX");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        atNow().checkClientTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        atNow().checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        atNow().checkClientTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        atNow().checkServerTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        atNow().checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        atNow().checkServerTrusted(chain, authType, engine);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return issuers.clone();
    }
}
