package dev.outpost.tpm.certify;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.keys.AkTemplate;
import dev.outpost.tpm.keys.AttestationKey;
import dev.outpost.tpm.keys.EkTemplate;
import dev.outpost.tpm.keys.Endorsement;
import dev.outpost.tpm.keys.NodeKey;
import dev.outpost.tpm.keys.NodeKeyTemplate;
import dev.outpost.tpm.keys.QualifiedName;
import dev.outpost.tpm.keys.StorageParent;
import dev.outpost.tpm.keys.TpmKey;
import dev.outpost.tpm.wire.ObjectAttributes;
import dev.outpost.tpm.wire.TpmPublic;

/** Node keys made by a real swtpm, certified by its AK, checked by {@link CertifyVerifier}. */
@ExtendWith(SwtpmExtension.class)
class NodeKeyCertifyTest {
    private static final SecureRandom RANDOM = new SecureRandom();
    private final CertifyVerifier verifier = new CertifyVerifier();

    /** One TPM's EK and AK, and a node key certified by that AK over a nonce. */
    record Certified(TpmPublic ek, TpmPublic ak, NodeKey key, byte[] nonce, Certification certification) {
        CertifyVerifier.Expectation expectation() {
            return new CertifyVerifier.Expectation(ak, QualifiedName.ofAkUnderEk(ek, ak), nonce, key.pub().publicKey());
        }
    }

    static Certified certify(Swtpm swtpm, AkTemplate akType, byte[] template) {
        try (Tpm2 tpm = Tpm2.open(swtpm.uri()); TpmKey ek = Endorsement.load(tpm, EkTemplate.RSA_2048);
                TpmKey srk = StorageParent.load(tpm)) {
            AttestationKey ak = AttestationKey.create(tpm, ek, akType);
            NodeKey key = NodeKey.create(tpm, srk, template);
            byte[] nonce = new byte[32];
            RANDOM.nextBytes(nonce);
            try (TpmKey loadedAk = ak.load(tpm, ek); TpmKey loadedKey = key.load(tpm, srk)) {
                return new Certified(ek.pub(), ak.pub(), key, nonce, KeyCertifier.certify(tpm, loadedKey, loadedAk, nonce));
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @ParameterizedTest
    @EnumSource(AkTemplate.class)
    void aNodeKeyCertifiedByTheAkVerifies(AkTemplate akType, Swtpm swtpm) {
        for (NodeKeyTemplate t : NodeKeyTemplate.values()) {
            Certified c = certify(swtpm, akType, t.template());
            CertifyResult r = verifier.verify(c.expectation(), c.certification());
            assertThat(r.describe()).isEqualTo("valid");
            assertThat(r.key().name()).isEqualTo(c.key().pub().name());
            assertThat(CertifyVerifier.attributeProblem(c.key().pub())).isNull();
        }
    }

    @Test
    void theStorageParentIsTheSameKeyAfterARestartOfTheConnection(Swtpm swtpm) throws Exception {
        NodeKey key;
        try (Tpm2 tpm = Tpm2.open(swtpm.uri()); TpmKey srk = StorageParent.load(tpm)) {
            key = NodeKey.create(tpm, srk, NodeKeyTemplate.ECC_P256);
        }
        NodeKey again = NodeKey.decode(key.encoded());
        try (Tpm2 tpm = Tpm2.open(swtpm.uri()); TpmKey srk = StorageParent.load(tpm); TpmKey loaded = again.load(tpm, srk)) {
            byte[] digest = new byte[32];
            RANDOM.nextBytes(digest);
            var sig = NodeKey.sign(tpm, loaded, digest);
            assertThat(sig.isEcdsa()).isTrue();
        }
    }

    @Test
    void aWrongNonceIsRefused(Swtpm swtpm) {
        Certified c = certify(swtpm, AkTemplate.ECC_P256, NodeKeyTemplate.ECC_P256.template());
        byte[] other = c.nonce().clone();
        other[0] ^= 1;
        CertifyResult r = verifier.verify(new CertifyVerifier.Expectation(c.ak(), null, other, null), c.certification());
        assertThat(r.failure()).isEqualTo(CertifyFailure.NONCE_MISMATCH);
    }

    @Test
    void aCertificationByAnotherTpmsAkIsRefused(Swtpm mine, Swtpm other) {
        Certified real = certify(mine, AkTemplate.ECC_P256, NodeKeyTemplate.ECC_P256.template());
        Certified foreign = certify(other, AkTemplate.ECC_P256, NodeKeyTemplate.ECC_P256.template());
        // The other TPM certified its own key over our nonce? It could not know it; it certified its key for its nonce,
        // and the appliance checks against this device's AK.
        CertifyResult r = verifier.verify(new CertifyVerifier.Expectation(real.ak(),
                QualifiedName.ofAkUnderEk(real.ek(), real.ak()), foreign.nonce(), foreign.key().pub().publicKey()),
                foreign.certification());
        assertThat(r.failure()).isEqualTo(CertifyFailure.BAD_SIGNATURE);
        assertThat(r.describe()).contains("does not verify with AK");
    }

    @Test
    void aKeyTheTpmMayReleaseIsRefused(Swtpm swtpm) {
        int attrs = ObjectAttributes.SENSITIVE_DATA_ORIGIN | ObjectAttributes.USER_WITH_AUTH | ObjectAttributes.SIGN;
        Certified c = certify(swtpm, AkTemplate.ECC_P256, NodeKeyTemplate.ECC_P256.template(attrs));
        CertifyResult r = verifier.verify(c.expectation(), c.certification());
        assertThat(r.failure()).isEqualTo(CertifyFailure.WRONG_ATTRIBUTES);
        assertThat(r.detail()).contains("lacks fixedTPM|fixedParent");
    }

    @Test
    void aDecryptionKeyIsRefused(Swtpm swtpm) {
        int attrs = ObjectAttributes.FIXED_TPM | ObjectAttributes.FIXED_PARENT | ObjectAttributes.SENSITIVE_DATA_ORIGIN
                | ObjectAttributes.USER_WITH_AUTH | ObjectAttributes.SIGN | ObjectAttributes.DECRYPT;
        Certified c = certify(swtpm, AkTemplate.RSA_2048, NodeKeyTemplate.ECC_P256.template(attrs));
        CertifyResult r = verifier.verify(c.expectation(), c.certification());
        assertThat(r.failure()).isEqualTo(CertifyFailure.WRONG_ATTRIBUTES);
        assertThat(r.detail()).contains("must not be decrypt");
    }

    @Test
    void anotherKeysPublicAreaOrCsrIsRefused(Swtpm swtpm) throws Exception {
        Certified c = certify(swtpm, AkTemplate.ECC_P256, NodeKeyTemplate.ECC_P256.template());
        Certified second = certify(swtpm, AkTemplate.ECC_P256, NodeKeyTemplate.ECC_P256.template());
        // The certification of one key presented with another key's public area.
        Certification swapped = new Certification(second.key().pub().encodedSized(), c.certification().attest(),
                c.certification().signature());
        assertThat(verifier.verify(c.expectation(), swapped).failure()).isEqualTo(CertifyFailure.NAME_MISMATCH);
        // A CSR for a software key, with the certification of a TPM key.
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        CertifyResult r = verifier.verify(new CertifyVerifier.Expectation(c.ak(), null, c.nonce(),
                g.generateKeyPair().getPublic()), c.certification());
        assertThat(r.failure()).isEqualTo(CertifyFailure.KEY_MISMATCH);
        // Nothing at all.
        assertThat(verifier.verify(c.expectation(), null).failure()).isEqualTo(CertifyFailure.MISSING);
        // A quote is not a certification (type), and a tampered body is not the TPM's (signature).
        byte[] tampered = c.certification().attest().clone();
        tampered[tampered.length - 1] ^= 1;
        assertThat(verifier.verify(c.expectation(), new Certification(c.certification().keyPublic(), tampered,
                c.certification().signature())).failure()).isEqualTo(CertifyFailure.BAD_SIGNATURE);
    }
}
