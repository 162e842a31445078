package dev.outpost.tpm.seal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.SecureRandom;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.pcr.Pcrs;
import dev.outpost.tpm.wire.PcrSelection;
import dev.outpost.tpm.wire.TpmFormatException;

/** Sealing to a real swtpm: round trip, another TPM, a PCR policy before and after an extend, and damaged blobs. */
@ExtendWith(SwtpmExtension.class)
class SealerTest {
    private static final SecureRandom RANDOM = new SecureRandom();

    private static byte[] secret() {
        byte[] s = new byte[32];
        RANDOM.nextBytes(s);
        return s;
    }

    @Test
    void sealedSecretUnsealsOnItsTpmAcrossConnections(Swtpm swtpm) throws Exception {
        byte[] secret = secret();
        byte[] blob;
        try (Tpm2 tpm = Tpm2.open(swtpm.uri())) {
            blob = Sealer.seal(tpm, secret, null).encoded();
        }
        swtpm.reboot();
        try (Tpm2 tpm = Tpm2.open(swtpm.uri())) {
            SealedBlob b = SealedBlob.decode(blob);
            assertThat(b.pcrs()).isEmpty();
            assertThat(Sealer.unseal(tpm, b)).isEqualTo(secret);
            // Nothing left loaded: many unseals in a row do not run the TPM out of slots.
            for (int i = 0; i < 10; i++) {
                assertThat(Sealer.unseal(tpm, b)).isEqualTo(secret);
            }
        }
    }

    @Test
    void anotherTpmCannotUnseal(Swtpm mine, Swtpm other) throws Exception {
        SealedBlob blob;
        try (Tpm2 tpm = Tpm2.open(mine.uri())) {
            blob = Sealer.seal(tpm, secret(), null);
        }
        try (Tpm2 tpm = Tpm2.open(other.uri())) {
            assertThatThrownBy(() -> Sealer.unseal(tpm, blob)).isInstanceOf(UnsealException.class)
                    .satisfies(e -> assertThat(((UnsealException) e).reason()).isEqualTo(UnsealException.Reason.OTHER_TPM))
                    .hasMessageContaining("another TPM");
        }
    }

    @Test
    void pcrPolicyUnsealsUntilAPcrInItChanges(Swtpm swtpm) throws Exception {
        byte[] secret = secret();
        PcrSelection pcrs = PcrSelection.parse("sha256:0,7");
        try (Tpm2 tpm = Tpm2.open(swtpm.uri())) {
            SealedBlob blob = SealedBlob.decode(Sealer.seal(tpm, secret, pcrs).encoded());
            assertThat(blob.pcrs()).contains(pcrs);
            assertThat(Sealer.unseal(tpm, blob)).isEqualTo(secret);
            // A PCR outside the policy changes nothing.
            Pcrs.extend(tpm, 8, Map.of(HashAlg.SHA256, secret()));
            assertThat(Sealer.unseal(tpm, blob)).isEqualTo(secret);
            Pcrs.extend(tpm, 7, Map.of(HashAlg.SHA256, secret()));
            assertThatThrownBy(() -> Sealer.unseal(tpm, blob)).isInstanceOf(UnsealException.class)
                    .satisfies(e -> assertThat(((UnsealException) e).reason()).isEqualTo(UnsealException.Reason.PCRS_CHANGED))
                    .hasMessageContaining("sha256:0,7");
        }
    }

    @Test
    void policyObjectDoesNotUnsealWithAPasswordSession(Swtpm swtpm) throws Exception {
        try (Tpm2 tpm = Tpm2.open(swtpm.uri())) {
            SealedBlob blob = Sealer.seal(tpm, secret(), PcrSelection.parse("sha256:7"));
            SealedBlob stripped = new SealedBlob(blob.pub(), blob.priv(), null, null);
            assertThatThrownBy(() -> Sealer.unseal(tpm, stripped)).isInstanceOf(UnsealException.class);
        }
    }

    @Test
    void damagedBlobsAreRefusedByTheFormat() throws Exception {
        assertThatThrownBy(() -> SealedBlob.decode(new byte[] {2})).isInstanceOf(TpmFormatException.class);
        assertThatThrownBy(() -> SealedBlob.decode(new byte[] {1, 0, 0})).isInstanceOf(TpmFormatException.class);
        byte[] ok = new SealedBlob(new byte[] {1}, new byte[] {2}, null, null).encoded();
        byte[] trailing = java.util.Arrays.copyOf(ok, ok.length + 1);
        assertThatThrownBy(() -> SealedBlob.decode(trailing)).isInstanceOf(TpmFormatException.class);
        assertThatThrownBy(() -> Sealer.seal(null, new byte[Sealer.MAX_SECRET + 1], null))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
