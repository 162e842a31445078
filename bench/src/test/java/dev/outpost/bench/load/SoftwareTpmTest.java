package dev.outpost.bench.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.GeneralSecurityException;
import java.security.SecureRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.outpost.tpm.credential.CredentialBlob;
import dev.outpost.tpm.credential.EkParameters;
import dev.outpost.tpm.credential.MakeCredential;
import dev.outpost.tpm.quote.QuoteEvidence;
import dev.outpost.tpm.quote.QuoteExpectation;
import dev.outpost.tpm.quote.QuoteResult;
import dev.outpost.tpm.quote.QuoteVerifier;
import dev.outpost.tpm.wire.PcrSelection;

class SoftwareTpmTest {
    private static final SecureRandom RANDOM = new SecureRandom();

    @Test
    void quotesVerifyWithTheVerifierTheApplianceUses() throws Exception {
        SoftwareTpm tpm = new SoftwareTpm(SoftwareTpm.EkKind.RSA);
        tpm.extend(10, new byte[32]);
        byte[] nonce = new byte[32];
        RANDOM.nextBytes(nonce);
        PcrSelection sel = PcrSelection.parse("sha256:0,1,2,3,4,5,6,7,8,9,10");
        QuoteEvidence q = tpm.quote(nonce, sel);
        QuoteResult r = new QuoteVerifier().verify(QuoteExpectation.of(tpm.akPublic(), tpm.akQualifiedName(), nonce, sel),
                q.attest(), q.signature(), q.pcrs());
        assertThat(r.isValid()).as(r.describe()).isTrue();
        assertThat(r.attest().clockInfo().clock()).isPositive();

        byte[] other = nonce.clone();
        other[0] ^= 1;
        assertThat(new QuoteVerifier().verify(QuoteExpectation.of(tpm.akPublic(), tpm.akQualifiedName(), other, sel),
                q.attest(), q.signature(), q.pcrs()).isValid()).isFalse();
    }

    @ParameterizedTest
    @EnumSource(SoftwareTpm.EkKind.class)
    void activatesWhatMakeCredentialMadeForItsEkAndAk(SoftwareTpm.EkKind kind) throws Exception {
        SoftwareTpm tpm = new SoftwareTpm(kind);
        byte[] secret = new byte[32];
        RANDOM.nextBytes(secret);
        CredentialBlob blob = new MakeCredential().make(EkParameters.of(tpm.ekPublic()), tpm.akPublic().name(), secret);
        assertThat(tpm.activate(blob)).isEqualTo(secret);

        SoftwareTpm stranger = new SoftwareTpm(kind);
        CredentialBlob forOtherAk = new MakeCredential().make(EkParameters.of(tpm.ekPublic()), stranger.akPublic().name(),
                secret);
        assertThatThrownBy(() -> tpm.activate(forOtherAk)).isInstanceOf(GeneralSecurityException.class);
    }

    @Test
    void certifiesANodeKeyAsATpmWould() throws Exception {
        SoftwareTpm tpm = new SoftwareTpm(SoftwareTpm.EkKind.values()[0]);
        java.security.KeyPair key = dev.outpost.agent.enroll.NodeKeys.generate();
        byte[] nonce = new byte[32];
        RANDOM.nextBytes(nonce);
        dev.outpost.tpm.certify.CertifyResult r = new dev.outpost.tpm.certify.CertifyVerifier().verify(
                new dev.outpost.tpm.certify.CertifyVerifier.Expectation(tpm.akPublic(), tpm.akQualifiedName(), nonce,
                        key.getPublic()), tpm.certify(key.getPublic(), nonce));
        assertThat(r.describe()).isEqualTo("valid");
    }
}
