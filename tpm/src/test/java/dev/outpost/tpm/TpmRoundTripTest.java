package dev.outpost.tpm;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.SecureRandom;
import java.security.cert.X509Certificate;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.outpost.tpm.credential.CredentialActivator;
import dev.outpost.tpm.credential.CredentialBlob;
import dev.outpost.tpm.credential.EkParameters;
import dev.outpost.tpm.credential.MakeCredential;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.keys.AkTemplate;
import dev.outpost.tpm.keys.AttestationKey;
import dev.outpost.tpm.keys.EkTemplate;
import dev.outpost.tpm.keys.Endorsement;
import dev.outpost.tpm.keys.QualifiedName;
import dev.outpost.tpm.keys.TpmKey;
import dev.outpost.tpm.quote.QuoteEvidence;
import dev.outpost.tpm.quote.QuoteExpectation;
import dev.outpost.tpm.quote.QuoteResult;
import dev.outpost.tpm.quote.QuoteVerifier;
import dev.outpost.tpm.quote.Quoter;
import dev.outpost.tpm.wire.PcrSelection;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;

@ExtendWith(SwtpmExtension.class)
class TpmRoundTripTest {
    private static final SecureRandom RANDOM = new SecureRandom();

    @ParameterizedTest
    @EnumSource(value = EkTemplate.class, names = {"RSA_2048", "ECC_P384"})
    void ekCertificateCertifiesThePersistedAndTheTemplateEk(EkTemplate t, Swtpm swtpm) throws Exception {
        try (Tpm2 tpm = Tpm2.open(swtpm.uri())) {
            X509Certificate cert = Endorsement.parseCertificate(Endorsement.readCertificate(tpm, t.certIndex()).orElseThrow());
            try (TpmKey ek = Endorsement.load(tpm, t); TpmKey fresh = Endorsement.createPrimary(tpm, t)) {
                assertThat(Endorsement.certifies(cert, ek.pub().publicKey())).isTrue();
                assertThat(fresh.pub().publicKey()).isEqualTo(ek.pub().publicKey());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(AkTemplate.class)
    void quoteVerifiesAndCredentialActivates(AkTemplate akType, Swtpm swtpm) throws Exception {
        for (EkTemplate ekType : new EkTemplate[] {EkTemplate.RSA_2048, EkTemplate.ECC_P384, EkTemplate.ECC_P256}) {
            try (Tpm2 tpm = Tpm2.open(swtpm.uri()); TpmKey ek = Endorsement.load(tpm, ekType)) {
                AttestationKey ak = AttestationKey.create(tpm, ek, akType);
                assertThat(AttestationKey.attributeProblem(ak.pub())).isNull();
                try (TpmKey loaded = ak.load(tpm, ek)) {
                    byte[] nonce = new byte[20];
                    RANDOM.nextBytes(nonce);
                    PcrSelection sel = PcrSelection.parse("sha256:0,1,2,10+sha1:0,10");
                    QuoteEvidence q = Quoter.quote(tpm, loaded, nonce, sel);
                    QuoteResult r = new QuoteVerifier().verify(QuoteExpectation.of(ak.pub(),
                            QualifiedName.ofAkUnderEk(ek.pub(), ak.pub()), nonce, sel), q.attest(), q.signature(), q.pcrs());
                    assertThat(r.describe()).isEqualTo("valid");

                    byte[] secret = new byte[32];
                    RANDOM.nextBytes(secret);
                    CredentialBlob blob = new MakeCredential().make(EkParameters.of(ek.pub()), ak.pub().name(), secret);
                    assertThat(CredentialActivator.activate(tpm, loaded, ek, blob)).isEqualTo(secret);
                }
            }
        }
    }
}
