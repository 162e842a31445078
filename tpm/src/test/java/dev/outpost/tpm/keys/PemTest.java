package dev.outpost.tpm.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.spec.ECGenParameterSpec;

import org.junit.jupiter.api.Test;

/** PEM through Bouncy Castle: round trips, limits, and malformed input refused with a reason. */
class PemTest {
    @Test
    void roundTripsAndPicksBlocksByType() throws Exception {
        String text = "junk before\n" + Pem.encode("CERTIFICATE", new byte[] {1, 2, 3}) + Pem.encode("PRIVATE KEY",
                new byte[] {9}) + Pem.encode("CERTIFICATE", new byte[] {4});
        assertThat(Pem.blocks(text, "CERTIFICATE", 5)).containsExactly(new byte[] {1, 2, 3}, new byte[] {4});
        assertThat(Pem.decode(text, "PRIVATE KEY")).containsExactly(9);
        assertThat(Pem.decode(text, "PUBLIC KEY")).isNull();
        assertThatThrownBy(() -> Pem.blocks(text, "CERTIFICATE", 1)).hasMessage("more than 1 CERTIFICATE blocks");
    }

    @Test
    void malformedBlocksAreRefusedNotSkipped() {
        String bad = "-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n";
        assertThatThrownBy(() -> Pem.blocks(bad, "CERTIFICATE", 5)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("malformed PEM");
        String unterminated = "-----BEGIN CERTIFICATE-----\nAQID\n";
        assertThatThrownBy(() -> Pem.blocks(unterminated, "CERTIFICATE", 5)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void keyFilesOfEitherAlgorithm() throws Exception {
        KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
        ec.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        for (PublicKey k : new PublicKey[] {ec.generateKeyPair().getPublic(), rsa.generateKeyPair().getPublic()}) {
            Object read = Pem.readKeyFile(Pem.publicKey(k).getBytes(StandardCharsets.US_ASCII), "ak.pem");
            assertThat(read).isEqualTo(k);
        }
        assertThatThrownBy(() -> Pem.readKeyFile(Pem.encode("PRIVATE KEY", new byte[] {1}).getBytes(
                StandardCharsets.US_ASCII), "ak.pem")).hasMessageContaining("neither a PUBLIC KEY nor a CERTIFICATE");
    }
}
