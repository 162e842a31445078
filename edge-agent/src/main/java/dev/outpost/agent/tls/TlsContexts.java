package dev.outpost.agent.tls;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.HexFormat;
import java.util.List;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

import dev.outpost.agent.state.NodeIdentity;
import dev.outpost.mqtt.protocol.transport.ClockedTrust;
import dev.outpost.tpm.jca.SingleKeyManager;
import dev.outpost.tpm.jca.TpmKeyProvider;
import dev.outpost.tpm.jca.TpmPrivateKey;

/**
 * TLS for the agent's MQTT connection. The appliance is trusted through the site bundle once the agent has one;
 * before that through a bundle file or a pinned fingerprint of the site CA from the configuration.
 */
public final class TlsContexts {

    private TlsContexts() {
    }

    /** Trusts the given CA certificates (PKIX, with dates by the wall clock). */
    public static X509TrustManager trusting(List<X509Certificate> anchors) throws GeneralSecurityException {
        return trusting(anchors, Clock.systemUTC());
    }

    /** Trusts the given CA certificates (PKIX), with validity judged at {@code clock}'s instant: the agent's clock. */
    public static X509TrustManager trusting(List<X509Certificate> anchors, Clock clock) throws GeneralSecurityException {
        if (anchors.isEmpty()) {
            throw new GeneralSecurityException("no trust anchor");
        }
        return ClockedTrust.of(anchors, clock, null);
    }

    /**
     * Trusts a server whose chain contains a CA certificate with this SHA-256 fingerprint, and validates the
     * chain to it: the pin names the anchor, PKIX still checks signatures and dates.
     */
    public static X509TrustManager pinned(byte[] caSha256) {
        return pinned(caSha256, Clock.systemUTC());
    }

    /** As {@link #pinned(byte[])}, with validity judged at {@code clock}'s instant. */
    public static X509TrustManager pinned(byte[] caSha256, Clock clock) {
        return new X509TrustManager() {
            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                for (X509Certificate c : chain) {
                    if (MessageDigest.isEqual(sha256(c), caSha256)) {
                        try {
                            trusting(List.of(c), clock).checkServerTrusted(chain, authType);
                            return;
                        } catch (GeneralSecurityException e) {
                            throw new CertificateException("server chain does not validate to the pinned site CA: "
                                    + e.getMessage(), e);
                        }
                    }
                }
                throw new CertificateException("no certificate in the server's chain has the pinned site CA fingerprint "
                        + HexFormat.of().formatHex(caSha256));
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                throw new CertificateException("the agent is never a TLS server");
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
    }

    public static byte[] sha256(X509Certificate c) throws CertificateException {
        try {
            return MessageDigest.getInstance("SHA-256").digest(c.getEncoded());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A client context: with the node identity for mTLS, or none for enrollment. */
    public static SSLContext context(X509TrustManager trust, NodeIdentity identity) throws GeneralSecurityException {
        KeyManager[] kms = null;
        if (identity != null) {
            if (identity.key() instanceof TpmPrivateKey) {
                // The key has no encoding for a KeyStore: JSSE gets it directly, and its CertificateVerify signature
                // goes through the TPM provider to a TPM2_Sign.
                TpmKeyProvider.install();
            }
            // A software key is handed over the same way: through a PKCS12 key store it cost two PBKDF2 runs of
            // 10,000 rounds (12-40 ms of an x86 core) at every SVID.
            kms = new KeyManager[] {new SingleKeyManager(identity.key(), identity.chain().toArray(new X509Certificate[0]))};
        }
        SSLContext ctx = SSLContext.getInstance("TLSv1.3");
        ctx.init(kms, new TrustManager[] {trust}, new SecureRandom());
        return ctx;
    }
}
