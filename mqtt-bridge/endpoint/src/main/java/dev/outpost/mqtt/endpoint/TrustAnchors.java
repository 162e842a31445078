package dev.outpost.mqtt.endpoint;

import java.io.ByteArrayInputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;

import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.mqtt.protocol.transport.ClockedTrust;
import dev.outpost.mqtt.protocol.transport.Providers;

/**
 * The client trust anchors as a trust manager whose anchors can be replaced while the server runs. Vert.x builds its
 * SSL context once; this manager is asked on every handshake, so a new site bundle applies to new connections
 * without a restart, and connections already up are left alone.
 */
final class TrustAnchors extends X509ExtendedTrustManager {
    private static final Logger log = LoggerFactory.getLogger(TrustAnchors.class);
    private final Clock clock;
    private volatile X509ExtendedTrustManager delegate;

    /** @param clock validity of client certificates is judged at its instant (the appliance's clock) */
    TrustAnchors(String pem, Clock clock) {
        this.clock = clock;
        this.delegate = build(pem);
    }

    /** Replaces the anchors; a bad bundle throws and leaves the old anchors in place (fail closed, not open). */
    void update(String pem) {
        this.delegate = build(pem);
    }

    static List<X509Certificate> parse(String pem) throws CertificateException {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        List<X509Certificate> out = new ArrayList<>();
        for (var c : cf.generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
            out.add((X509Certificate) c);
        }
        return out;
    }

    private X509ExtendedTrustManager build(String pem) {
        try {
            List<X509Certificate> anchors = parse(pem);
            if (anchors.isEmpty()) {
                throw new IllegalArgumentException("client trust bundle holds no certificate");
            }
            // The JDK's PKIX trust manager (chain, validity by the appliance's clock, TLS key usage), with signatures
            // checked by Bouncy Castle: SunEC's P-256 verify made client certificates a large share of a handshake
            // (see Providers).
            return ClockedTrust.of(anchors, clock, Providers.bouncyCastleName());
        } catch (CertificateException e) {
            throw new IllegalArgumentException("client trust bundle unusable: " + e.getMessage(), e);
        }
    }

    // Vert.x MQTT reports no TLS handshake failure to the application; the trust manager is where a refused client
    // certificate can still be named in the log.
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        try {
            delegate.checkClientTrusted(chain, authType, socket);
        } catch (CertificateException e) {
            logRefusal(chain, socket == null ? null : String.valueOf(socket.getRemoteSocketAddress()), e);
            throw e;
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        try {
            delegate.checkClientTrusted(chain, authType, engine);
        } catch (CertificateException e) {
            logRefusal(chain, engine == null ? null : engine.getPeerHost() + ":" + engine.getPeerPort(), e);
            throw e;
        }
    }

    private static void logRefusal(X509Certificate[] chain, String peer, CertificateException e) {
        String who = chain == null || chain.length == 0 ? "(no certificate)"
                : chain[0].getSubjectX500Principal().getName() + ", issuer " + chain[0].getIssuerX500Principal().getName();
        log.info("TLS handshake from {} refused: client certificate {} does not chain to the site trust anchors ({})",
                peer, RequestDispatcher.printable(who), e.getMessage());
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        delegate.checkClientTrusted(chain, authType);
    }

    // This manager only ever checks clients: it is never used as a client's.
    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        throw new CertificateException("server certificates are not checked by the endpoint");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        throw new CertificateException("server certificates are not checked by the endpoint");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("server certificates are not checked by the endpoint");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return delegate.getAcceptedIssuers();
    }
}
