package dev.outpost.tpm;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.SecureRandom;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.keys.AkTemplate;
import dev.outpost.tpm.keys.AttestationKey;
import dev.outpost.tpm.keys.EkTemplate;
import dev.outpost.tpm.keys.Endorsement;
import dev.outpost.tpm.keys.QualifiedName;
import dev.outpost.tpm.keys.TpmKey;
import dev.outpost.tpm.pcr.Pcrs;
import dev.outpost.tpm.quote.QuoteEvidence;
import dev.outpost.tpm.quote.QuoteExpectation;
import dev.outpost.tpm.quote.QuoteFailure;
import dev.outpost.tpm.quote.QuoteVerifier;
import dev.outpost.tpm.quote.Quoter;
import dev.outpost.tpm.wire.PcrSelection;
import dev.outpost.tpm.wire.PcrValues;
import dev.outpost.tpm.wire.TpmPublic;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;

/** Every way a quote can be wrong is rejected, and with the reason that names it. */
@ExtendWith(SwtpmExtension.class)
class QuoteRejectionTest {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final PcrSelection SEL = PcrSelection.parse("sha256:0,1,2,7,10+sha1:10");
    private final QuoteVerifier verifier = new QuoteVerifier();

    @Test
    void tamperedQuotesAreRejectedWithTheirReason(Swtpm swtpm) throws Exception {
        for (AkTemplate type : AkTemplate.values()) {
            try (Tpm2 tpm = Tpm2.open(swtpm.uri()); TpmKey ek = Endorsement.load(tpm, EkTemplate.RSA_2048)) {
                AttestationKey ak = AttestationKey.create(tpm, ek, type);
                AttestationKey otherAk = AttestationKey.create(tpm, ek, type);
                Pcrs.extend(tpm, 10, Map.of(HashAlg.SHA256, HashAlg.SHA256.digest(new byte[] {1}),
                        HashAlg.SHA1, HashAlg.SHA1.digest(new byte[] {1})));
                byte[] nonce = random(20);
                QuoteEvidence q;
                QuoteEvidence byOther;
                QuoteEvidence narrowed;
                try (TpmKey k = ak.load(tpm, ek); TpmKey o = otherAk.load(tpm, ek)) {
                    q = Quoter.quote(tpm, k, nonce, SEL);
                    byOther = Quoter.quote(tpm, o, nonce, SEL);
                    narrowed = Quoter.quote(tpm, k, nonce, PcrSelection.parse("sha256:0,1,2,7"));
                }
                byte[] qn = QualifiedName.ofAkUnderEk(ek.pub(), ak.pub());
                QuoteExpectation expected = QuoteExpectation.of(ak.pub(), qn, nonce, SEL);

                assertThat(verifier.verify(expected, q.attest(), q.signature(), q.pcrs()).isValid()).isTrue();
                // Every bit of the signed message and of the signature matters.
                for (int i = 0; i < q.attest().length; i++) {
                    assertThat(reason(expected, flip(q.attest(), i), q.signature(), q.pcrs()))
                            .as("bit flip at attest byte %d", i).isIn(QuoteFailure.BAD_SIGNATURE, QuoteFailure.MALFORMED);
                }
                for (int i = 6; i < q.signature().length; i++) {
                    assertThat(reason(expected, q.attest(), flip(q.signature(), i), q.pcrs()))
                            .as("bit flip at signature byte %d", i).isIn(QuoteFailure.BAD_SIGNATURE, QuoteFailure.MALFORMED);
                }
                assertThat(reason(expected, q.attest(), flip(q.signature(), 0), q.pcrs()))
                        .isIn(QuoteFailure.MALFORMED, QuoteFailure.SCHEME_MISMATCH);

                PcrValues badPcr = copyWithFlip(q.pcrs(), HashAlg.SHA256, 7);
                assertThat(reason(expected, q.attest(), q.signature(), badPcr)).isEqualTo(QuoteFailure.PCR_DIGEST_MISMATCH);

                QuoteExpectation otherNonce = QuoteExpectation.of(ak.pub(), qn, flip(nonce, 3), SEL);
                assertThat(reason(otherNonce, q.attest(), q.signature(), q.pcrs())).isEqualTo(QuoteFailure.NONCE_MISMATCH);

                assertThat(reason(expected, byOther.attest(), byOther.signature(), byOther.pcrs()))
                        .isEqualTo(QuoteFailure.BAD_SIGNATURE);
                // Even with the other AK's key in hand, its qualified name gives it away.
                QuoteExpectation otherKey = QuoteExpectation.of(otherAk.pub(), qn, nonce, SEL);
                assertThat(reason(otherKey, byOther.attest(), byOther.signature(), byOther.pcrs()))
                        .isEqualTo(QuoteFailure.WRONG_SIGNER);

                assertThat(reason(expected, narrowed.attest(), narrowed.signature(), narrowed.pcrs()))
                        .isEqualTo(QuoteFailure.SELECTION_MISMATCH);

                PcrValues missing = new PcrValues();
                q.pcrs().bank(HashAlg.SHA256).forEach((pcr, v) -> missing.put(HashAlg.SHA256, pcr, v));
                assertThat(reason(expected, q.attest(), q.signature(), missing)).isEqualTo(QuoteFailure.PCR_VALUES_MISSING);

                // An ECDSA signature presented for an RSA key (or the reverse) is a scheme mismatch.
                TpmPublic wrongType = ak.pub().isRsa() ? null : ak.pub();
                if (wrongType == null) {
                    AttestationKey ecc = AttestationKey.create(tpm, ek, AkTemplate.ECC_P256);
                    assertThat(reason(QuoteExpectation.of(ecc.pub(), qn, nonce, SEL), q.attest(), q.signature(), q.pcrs()))
                            .isEqualTo(QuoteFailure.SCHEME_MISMATCH);
                }
            }
        }
    }

    private QuoteFailure reason(QuoteExpectation e, byte[] attest, byte[] sig, PcrValues pcrs) {
        return verifier.verify(e, attest, sig, pcrs).failure();
    }

    private static PcrValues copyWithFlip(PcrValues src, HashAlg bank, int pcr) {
        PcrValues out = new PcrValues();
        for (HashAlg b : src.banks()) {
            src.bank(b).forEach((i, v) -> out.put(b, i, b == bank && i == pcr ? flip(v, 0) : v));
        }
        return out;
    }

    static byte[] flip(byte[] b, int index) {
        byte[] c = b.clone();
        c[index] ^= 0x01;
        return c;
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    @Test
    void selectionParsesAndPrintsInTpm2ToolsForm() {
        PcrSelection s = PcrSelection.parse("sha256:10,0,1+sha1:0");
        assertThat(s.toString()).isEqualTo("sha256:0,1,10+sha1:0");
        assertThat(s.pcrs(HashAlg.SHA256)).isEqualTo(Set.of(0, 1, 10));
        assertThat(s).isEqualTo(PcrSelection.parse("sha1:0+sha256:0,1,10"));
    }
}
