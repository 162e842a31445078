package dev.outpost.tpm.jca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.Date;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import javax.security.auth.x500.X500Principal;

import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.keys.NodeKey;
import dev.outpost.tpm.keys.NodeKeyTemplate;
import dev.outpost.tpm.keys.StorageParent;
import dev.outpost.tpm.keys.TpmKey;

/**
 * A TPM-held key as a JCA private key: JDK signature verification accepts what the TPM signed, and JSSE (TLS 1.3)
 * authenticates a client with it, the TPM making the CertificateVerify signature.
 */
@ExtendWith(SwtpmExtension.class)
class TpmTlsTest {
    private static final int HANDSHAKES = Integer.getInteger("outpost.bench.handshakes", 3);

    /** Signs the way the agent does: one TPM connection per signature, SRK and key loaded and flushed each time. */
    static TpmPrivateKey tpmKey(Swtpm swtpm, int[] signatures) {
        return tpmKey(swtpm, signatures, NodeKeyTemplate.ECC_P256);
    }

    static TpmPrivateKey tpmKey(Swtpm swtpm, int[] signatures, NodeKeyTemplate template) {
        NodeKey key;
        try (Tpm2 tpm = Tpm2.open(swtpm.uri()); TpmKey srk = StorageParent.load(tpm)) {
            key = NodeKey.create(tpm, srk, template);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return TpmPrivateKey.of(key.pub().publicKey(), (digest, alg) -> {
            signatures[0]++;
            try (Tpm2 tpm = Tpm2.open(swtpm.uri()); TpmKey srk = StorageParent.load(tpm); TpmKey k = key.load(tpm, srk)) {
                return NodeKey.sign(tpm, k, digest, alg);
            } catch (java.io.IOException e) {
                throw new java.security.SignatureException(e.getMessage(), e);
            }
        });
    }

    @Test
    void jdkVerifiesWhatTheTpmSignedAndSoftwareProvidersStayOut(Swtpm swtpm) throws Exception {
        TpmKeyProvider.install();
        int[] n = {0};
        TpmPrivateKey key = tpmKey(swtpm, n);
        assertThat(key.getEncoded()).isNull();
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initSign(key);
        s.update("hello".getBytes());
        byte[] sig = s.sign();
        assertThat(s.getProvider().getName()).isEqualTo(TpmKeyProvider.NAME);
        Signature v = Signature.getInstance("SHA256withECDSA");
        v.initVerify(key.publicKey());
        v.update("hello".getBytes());
        assertThat(v.verify(sig)).isTrue();
        assertThat(v.getProvider().getName()).isNotEqualTo(TpmKeyProvider.NAME);
        assertThat(n[0]).isEqualTo(1);
        assertThatThrownBy(() -> Signature.getInstance("SHA256withECDSA", TpmKeyProvider.get()).initVerify(key.publicKey()))
                .isInstanceOf(java.security.InvalidKeyException.class);
    }

    @Test
    void tls13ClientAuthenticationSignsInTheTpm(Swtpm swtpm) throws Exception {
        TpmKeyProvider.install();
        int[] signatures = {0};
        TpmPrivateKey clientKey = tpmKey(swtpm, signatures);
        // The client certificate is signed by the TPM key itself: another signature through the provider.
        X509Certificate clientCert = selfSigned("CN=tpm-client", clientKey.publicKey(), clientKey);
        KeyPair serverPair = ec();
        X509Certificate serverCert = selfSigned("CN=server", serverPair.getPublic(), serverPair.getPrivate());
        int before = signatures[0];

        KeyPair soft = ec();
        X509Certificate softCert = selfSigned("CN=soft-client", soft.getPublic(), soft.getPrivate());
        SSLContext tpmServer = SSLContext.getInstance("TLSv1.3");
        tpmServer.init(keyManagers(serverPair.getPrivate(), serverCert), trustManagers(clientCert), new SecureRandom());
        SSLContext softServer = SSLContext.getInstance("TLSv1.3");
        softServer.init(keyManagers(serverPair.getPrivate(), serverCert), trustManagers(softCert), new SecureRandom());

        // Rounds alternate between the two keys, so JIT warm-up and the box's load weigh on both alike.
        int rounds = 4;
        long tpmUs = 0;
        long softUs = 0;
        for (int round = 0; round < rounds; round++) {
            tpmUs += handshakes(tpmServer, clientKey, clientCert, serverCert);
            softUs += handshakes(softServer, soft.getPrivate(), softCert, serverCert);
        }
        // One CertificateVerify signature per handshake, each a TPM2_Sign.
        assertThat(signatures[0] - before).isEqualTo(rounds * HANDSHAKES);
        System.out.printf("BENCH tls13 mTLS handshake, client key P-256: TPM-held (swtpm) %d us, in memory %d us "
                + "(mean of %d in %d alternating rounds, new client context each)%n", tpmUs / rounds, softUs / rounds,
                rounds * HANDSHAKES, rounds);
    }

    @Test
    void rsaKeySignsPkcs1AndPssInTheTpmAndAuthenticatesTls13(Swtpm swtpm) throws Exception {
        TpmKeyProvider.install();
        int[] signatures = {0};
        TpmPrivateKey key = tpmKey(swtpm, signatures, NodeKeyTemplate.RSA_2048);
        assertThat(key.getAlgorithm()).isEqualTo("RSA");
        Signature pkcs1 = Signature.getInstance("SHA256withRSA");
        pkcs1.initSign(key);
        pkcs1.update("hello".getBytes());
        byte[] sig = pkcs1.sign();
        Signature v = Signature.getInstance("SHA256withRSA");
        v.initVerify(key.publicKey());
        v.update("hello".getBytes());
        assertThat(v.verify(sig)).isTrue();

        Signature pss = Signature.getInstance("RSASSA-PSS");
        // Key first: a parameter set before the key would pick the JDK's provider, which cannot use this key.
        pss.initSign(key);
        pss.setParameter(TpmRsaSignature.Pss.SHA256);
        pss.update("hello".getBytes());
        byte[] pssSig = pss.sign();
        Signature pv = Signature.getInstance("RSASSA-PSS");
        pv.setParameter(TpmRsaSignature.Pss.SHA256);
        pv.initVerify(key.publicKey());
        pv.update("hello".getBytes());
        assertThat(pv.verify(pssSig)).as("the TPM's PSS salt is the digest's length").isTrue();
        Signature unsalted = Signature.getInstance("RSASSA-PSS");
        unsalted.initSign(key);
        assertThatThrownBy(() -> unsalted.setParameter(new java.security.spec.PSSParameterSpec("SHA-256", "MGF1",
                java.security.spec.MGF1ParameterSpec.SHA256, 222, 1))).hasMessageContaining("32-byte salt");

        X509Certificate clientCert = selfSigned("CN=tpm-rsa-client", key.publicKey(), key);
        KeyPair serverPair = ec();
        X509Certificate serverCert = selfSigned("CN=server", serverPair.getPublic(), serverPair.getPrivate());
        SSLContext server = SSLContext.getInstance("TLSv1.3");
        server.init(keyManagers(serverPair.getPrivate(), serverCert), trustManagers(clientCert), new SecureRandom());
        int before = signatures[0];
        long us = handshakes(server, key, clientCert, serverCert);
        assertThat(signatures[0] - before).isEqualTo(HANDSHAKES);
        System.out.printf("BENCH tls13 mTLS handshake, client key RSA 2048 TPM-held (swtpm): %d us%n", us);
    }

    private static long handshakes(SSLContext server, PrivateKey clientKey, X509Certificate clientCert,
            X509Certificate serverCert) throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (SSLServerSocket ss = (SSLServerSocket) server.getServerSocketFactory().createServerSocket(0, 50,
                InetAddress.getLoopbackAddress())) {
            ss.setNeedClientAuth(true);
            Future<Object> accepted = pool.submit(() -> {
                for (int i = 0; i < HANDSHAKES; i++) {
                    try (SSLSocket s = (SSLSocket) ss.accept()) {
                        InputStream in = s.getInputStream();
                        int b = in.read();
                        assertThat(s.getSession().getPeerCertificates()[0]).isEqualTo(clientCert);
                        s.getOutputStream().write(b + 1);
                        s.getOutputStream().flush();
                    }
                }
                return null;
            });
            long start = System.nanoTime();
            for (int i = 0; i < HANDSHAKES; i++) {
                // A new context each time: with a shared one TLS 1.3 resumes the session (PSK), and a resumed
                // handshake has no CertificateVerify to sign.
                SSLContext client = SSLContext.getInstance("TLSv1.3");
                client.init(new javax.net.ssl.KeyManager[] {new SingleKeyManager(clientKey,
                        new X509Certificate[] {clientCert})}, trustManagers(serverCert), new SecureRandom());
                try (SSLSocket c = (SSLSocket) client.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(),
                        ss.getLocalPort())) {
                    c.setEnabledProtocols(new String[] {"TLSv1.3"});
                    c.setSoTimeout(20_000);
                    c.startHandshake();
                    OutputStream out = c.getOutputStream();
                    out.write(41);
                    out.flush();
                    assertThat(c.getInputStream().read()).isEqualTo(42);
                    assertThat(c.getSession().getProtocol()).isEqualTo("TLSv1.3");
                }
            }
            long us = (System.nanoTime() - start) / 1000 / HANDSHAKES;
            accepted.get();
            return us;
        } finally {
            pool.shutdownNow();
        }
    }

    static KeyPair ec() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    static X509Certificate selfSigned(String dn, PublicKey pub, PrivateKey signer) throws Exception {
        X500Principal name = new X500Principal(dn);
        Date now = new Date();
        var builder = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(System.nanoTime()),
                new Date(now.getTime() - 60_000), new Date(now.getTime() + 3_600_000), name, pub);
        JcaContentSignerBuilder sb = new JcaContentSignerBuilder(
                "RSA".equals(signer.getAlgorithm()) ? "SHA256withRSA" : "SHA256withECDSA");
        if (signer instanceof TpmPrivateKey) {
            sb.setProvider(TpmKeyProvider.get());
        }
        return new JcaX509CertificateConverter().getCertificate(builder.build(sb.build(signer)));
    }

    static javax.net.ssl.KeyManager[] keyManagers(PrivateKey key, X509Certificate cert) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("k", key, new char[0], new X509Certificate[] {cert});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, new char[0]);
        return kmf.getKeyManagers();
    }

    static javax.net.ssl.TrustManager[] trustManagers(X509Certificate anchor) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setCertificateEntry("a", anchor);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(ks);
        return tmf.getTrustManagers();
    }
}
