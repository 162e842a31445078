package dev.outpost.mqtt.endpoint;

import java.io.ByteArrayInputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * The endpoint's TLS server certificate as a key manager whose certificate can be replaced while the server runs, for
 * the same reason as {@link TrustAnchors}: Vert.x builds its SSL context once, and a site CA rotation must give the
 * endpoint a certificate from the new CA before the old one expires, without dropping connected devices. Each
 * replacement gets a new alias, so a key-material cache keyed by alias (netty-tcnative's) never serves the old one.
 */
final class ServerIdentity extends X509ExtendedKeyManager {
    private static final AtomicLong GENERATION = new AtomicLong();

    private record Material(String alias, X509Certificate[] chain, PrivateKey key) {
    }

    private volatile Material current;

    ServerIdentity(String certChainPem, String keyPem) {
        this.current = parse(certChainPem, keyPem);
    }

    /** Replaces the certificate; unusable input throws and leaves the old one serving. */
    void update(String certChainPem, String keyPem) {
        this.current = parse(certChainPem, keyPem);
    }

    private static Material parse(String chainPem, String keyPem) {
        try {
            List<X509Certificate> chain = new ArrayList<>();
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(
                    new ByteArrayInputStream(chainPem.getBytes(StandardCharsets.US_ASCII)))) {
                chain.add((X509Certificate) c);
            }
            if (chain.isEmpty()) {
                throw new IllegalArgumentException("server certificate chain holds no certificate");
            }
            String b64 = keyPem.replaceAll("-----(BEGIN|END) PRIVATE KEY-----", "").replaceAll("\\s", "");
            byte[] der = Base64.getDecoder().decode(b64);
            String alg = chain.get(0).getPublicKey().getAlgorithm();
            PrivateKey key = KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
            return new Material("server-" + GENERATION.incrementAndGet(), chain.toArray(new X509Certificate[0]), key);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalArgumentException("server certificate or key unusable: " + e.getMessage(), e);
        }
    }

    private String aliasFor(String keyType) {
        Material m = current;
        String alg = m.key().getAlgorithm().toUpperCase(Locale.ROOT);
        return keyType == null || keyType.toUpperCase(Locale.ROOT).startsWith(alg) ? m.alias() : null;
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return aliasFor(keyType);
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return aliasFor(keyType);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        String a = aliasFor(keyType);
        return a == null ? null : new String[] {a};
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        Material m = current;
        return m.alias().equals(alias) ? m.chain().clone() : null;
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        Material m = current;
        return m.alias().equals(alias) ? m.key() : null;
    }

    // A server's key manager: never asked for a client certificate.
    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return null;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return null;
    }
}
