package dev.outpost.spiffe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.spec.ECGenParameterSpec;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Test;

class CsrValidatorTest {

    static byte[] csr(KeyPair pair, String alg) throws Exception {
        return new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=whatever-the-device-wants"), pair.getPublic())
                .build(new JcaContentSignerBuilder(alg).build(pair.getPrivate())).getEncoded();
    }

    static KeyPair ec(String curve) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec(curve));
        return g.generateKeyPair();
    }

    static KeyPair rsa(int bits) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(bits);
        return g.generateKeyPair();
    }

    @Test
    void acceptsP256P384AndRsa2048() throws Exception {
        for (KeyPair kp : new KeyPair[] {ec("secp256r1"), ec("secp384r1")}) {
            PublicKey k = CsrValidator.validate(csr(kp, "SHA256withECDSA"), 4096);
            assertThat(k.getEncoded()).isEqualTo(kp.getPublic().getEncoded());
        }
        KeyPair r = rsa(2048);
        assertThat(CsrValidator.validate(csr(r, "SHA256withRSA"), 4096).getEncoded()).isEqualTo(r.getPublic().getEncoded());
    }

    @Test
    void refusesABadSignature() throws Exception {
        byte[] der = csr(ec("secp256r1"), "SHA256withECDSA");
        // The signature is the last field: flipping a bit of its final byte keeps the DER well formed.
        der[der.length - 1] ^= 0x01;
        assertThatThrownBy(() -> CsrValidator.validate(der, 4096))
                .isInstanceOf(CsrException.class).hasMessageContaining("does not verify");
    }

    @Test
    void refusesAKeySignedByAnotherKey() throws Exception {
        KeyPair a = ec("secp256r1");
        KeyPair b = ec("secp256r1");
        byte[] der = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=x"), a.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(b.getPrivate())).getEncoded();
        assertThatThrownBy(() -> CsrValidator.validate(der, 4096))
                .isInstanceOf(CsrException.class).hasMessageContaining("no proof of possession");
    }

    @Test
    void refusesWeakRsa() throws Exception {
        byte[] der = csr(rsa(1024), "SHA256withRSA");
        assertThatThrownBy(() -> CsrValidator.validate(der, 4096))
                .isInstanceOf(CsrException.class).hasMessageContaining("RSA key of 1024 bits is too weak");
    }

    @Test
    void refusesOtherCurvesAndSha1() throws Exception {
        KeyPair p521 = ec("secp521r1");
        assertThatThrownBy(() -> CsrValidator.validate(csr(p521, "SHA256withECDSA"), 4096))
                .hasMessageContaining("P-256 or P-384 only");
        assertThatThrownBy(() -> CsrValidator.validate(csr(ec("secp256r1"), "SHA1withECDSA"), 4096))
                .hasMessageContaining("signature algorithm 1.2.840.10045.4.1 is not accepted");
    }

    @Test
    void refusesGarbageEmptyAndOversize() throws Exception {
        assertThatThrownBy(() -> CsrValidator.validate(new byte[] {0x30, 0x03, 0x01, 0x02}, 4096))
                .isInstanceOf(CsrException.class).hasMessageContaining("not a DER PKCS#10 request");
        assertThatThrownBy(() -> CsrValidator.validate("hello".getBytes(), 4096))
                .isInstanceOf(CsrException.class).hasMessageContaining("not a DER PKCS#10 request");
        assertThatThrownBy(() -> CsrValidator.validate(new byte[0], 4096)).hasMessageContaining("empty");
        byte[] der = csr(ec("secp256r1"), "SHA256withECDSA");
        assertThatThrownBy(() -> CsrValidator.validate(der, 100)).hasMessageContaining("over the 100 byte limit");
        byte[] trailing = java.util.Arrays.copyOf(der, der.length + 2);
        assertThatThrownBy(() -> CsrValidator.validate(trailing, 4096)).hasMessageContaining("not a DER PKCS#10");
    }

    @Test
    void survivesRandomAndTruncatedInput() throws Exception {
        java.util.Random r = new java.util.Random(42);
        byte[] good = csr(ec("secp256r1"), "SHA256withECDSA");
        for (int i = 0; i < 2000; i++) {
            byte[] b = java.util.Arrays.copyOf(good, 1 + r.nextInt(good.length));
            if (i % 2 == 0) {
                b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
            }
            try {
                CsrValidator.validate(b, 4096);
            } catch (CsrException expected) {
                assertThat(expected.getMessage()).isNotBlank();
            }
        }
    }
}
