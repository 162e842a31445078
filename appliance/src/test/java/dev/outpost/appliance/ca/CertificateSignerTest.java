package dev.outpost.appliance.ca;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;

import org.bouncycastle.operator.ContentSigner;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.outpost.mqtt.protocol.transport.Providers;

/**
 * The CA's signatures through Bouncy Castle's shared curve parameters are plain SHA256withECDSA, checked by the JDK's
 * own provider, for keys made by either provider; the nonce comes from the key and the message (RFC 6979).
 */
class CertificateSignerTest {
    private static byte[] sign(KeyPair k, String message) throws Exception {
        ContentSigner s = CertificateSigner.of(k.getPrivate());
        s.getOutputStream().write(message.getBytes(StandardCharsets.UTF_8));
        return s.getSignature();
    }

    private static boolean jdkVerifies(KeyPair k, String message, byte[] sig) throws Exception {
        Signature v = Signature.getInstance("SHA256withECDSA", "SunEC");
        v.initVerify(k.getPublic());
        v.update(message.getBytes(StandardCharsets.UTF_8));
        return v.verify(sig);
    }

    @ParameterizedTest
    @CsvSource({"secp256r1, SunEC", "secp384r1, SunEC", "secp521r1, SunEC", "secp256r1, BC", "secp384r1, BC"})
    void signaturesAreStandardAndDeterministic(String curve, String provider) throws Exception {
        KeyPairGenerator g = provider.equals("BC") ? KeyPairGenerator.getInstance("EC", Providers.bouncyCastle())
                : KeyPairGenerator.getInstance("EC", provider);
        g.initialize(new ECGenParameterSpec(curve));
        KeyPair k = g.generateKeyPair();
        byte[] a = sign(k, "tbsCertificate one");
        assertThat(jdkVerifies(k, "tbsCertificate one", a)).isTrue();
        assertThat(jdkVerifies(k, "tbsCertificate two", a)).isFalse();
        assertThat(sign(k, "tbsCertificate one")).as("RFC 6979: same key and message, same signature").isEqualTo(a);
        byte[] b = sign(k, "tbsCertificate two");
        assertThat(b).isNotEqualTo(a);
        assertThat(jdkVerifies(k, "tbsCertificate two", b)).isTrue();
    }
}
