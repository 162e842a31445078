package dev.outpost.appliance.attest;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.outpost.appliance.store.DeviceRecord;
import dev.outpost.tpm.keys.QualifiedName;
import dev.outpost.tpm.quote.QuoteExpectation;
import dev.outpost.tpm.wire.PcrSelection;
import dev.outpost.tpm.wire.PublicAreas;
import dev.outpost.tpm.wire.TpmPublic;
import dev.outpost.tpm.wire.TpmWriter;

class EnrolledKeysTest {
    private static final PcrSelection PCRS = PcrSelection.parse("sha256:10");

    @Test
    void aDeviceEnrolledAgainIsJudgedAgainstItsNewAkNeverTheOld() throws Exception {
        byte[] ek = sized(key());
        byte[] firstAk = sized(key());
        byte[] secondAk = sized(key());
        EnrolledKeys keys = new EnrolledKeys();

        QuoteExpectation first = keys.expectation(device(ek, firstAk), new byte[] {1}, PCRS);
        assertThat(first.akKey()).isEqualTo(TpmPublic.parseSized(firstAk).publicKey());
        assertThat(first.signerQn()).isEqualTo(QualifiedName.ofAkUnderEk(TpmPublic.parseSized(ek),
                TpmPublic.parseSized(firstAk)));
        // Same bytes in another array (the row read again): the entry made before is used.
        assertThat(keys.expectation(device(ek.clone(), firstAk.clone()), new byte[] {2}, PCRS).akPublic())
                .isSameAs(first.akPublic());

        QuoteExpectation second = keys.expectation(device(ek, secondAk), new byte[] {3}, PCRS);
        assertThat(second.akKey()).isEqualTo(TpmPublic.parseSized(secondAk).publicKey())
                .isNotEqualTo(first.akKey());
        assertThat(second.signerQn()).isNotEqualTo(first.signerQn());
        assertThat(second.nonce()).containsExactly(3);
        assertThat(keys.size()).isEqualTo(1);
    }

    @Test
    void changingTheRowsArraysAfterwardsDoesNotChangeTheEntry() throws Exception {
        byte[] ek = sized(key());
        byte[] ak = sized(key());
        byte[] other = sized(key());
        EnrolledKeys keys = new EnrolledKeys();
        PublicKey before = keys.expectation(device(ek, ak), new byte[] {1}, PCRS).akKey();
        System.arraycopy(other, 0, ak, 0, ak.length);
        assertThat(keys.expectation(device(ek, ak), new byte[] {1}, PCRS).akKey())
                .isEqualTo(TpmPublic.parseSized(other).publicKey()).isNotEqualTo(before);
    }

    private static DeviceRecord device(byte[] ek, byte[] ak) {
        return DeviceRecord.enrolled("ab".repeat(32), ek, null, "L-2", ak, "spiffe://site/d", Instant.EPOCH, List.of());
    }

    private static PublicKey key() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair().getPublic();
    }

    private static byte[] sized(PublicKey key) {
        return new TpmWriter().sized(PublicAreas.signingKey(key, 0x00050072)).toBytes();
    }
}
