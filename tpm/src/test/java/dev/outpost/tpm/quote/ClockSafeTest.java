package dev.outpost.tpm.quote;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.SecureRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.keys.AkTemplate;
import dev.outpost.tpm.keys.AttestationKey;
import dev.outpost.tpm.keys.EkTemplate;
import dev.outpost.tpm.keys.Endorsement;
import dev.outpost.tpm.keys.QualifiedName;
import dev.outpost.tpm.keys.TpmKey;
import dev.outpost.tpm.wire.PcrSelection;
import tss.tpm.TPM_HANDLE;
import tss.tpm.TPM_RH;

/**
 * A TPM that lost power without TPM2_Shutdown cannot vouch that its clock never went backwards: it reports
 * clockInfo.safe = NO until it next writes its clock to NV. A real swtpm, killed and started again, signs such a
 * quote; the verifier must refuse it, and accept the same AK's quotes before the power loss and once the clock is
 * safe again.
 */
@ExtendWith(SwtpmExtension.class)
class ClockSafeTest {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final PcrSelection SEL = PcrSelection.parse("sha256:0,7,10");
    private final QuoteVerifier verifier = new QuoteVerifier();

    @Test
    void aQuoteAfterAPowerLossIsRefusedAsClockNotSafe(Swtpm swtpm) throws Exception {
        AttestationKey ak;
        QuoteExpectation before;
        QuoteResult good;
        try (Tpm2 tpm = Tpm2.open(swtpm.uri()); TpmKey ek = Endorsement.load(tpm, EkTemplate.RSA_2048)) {
            ak = AttestationKey.create(tpm, ek, AkTemplate.RSA_2048);
            byte[] nonce = nonce();
            before = QuoteExpectation.of(ak.pub(), QualifiedName.ofAkUnderEk(ek.pub(), ak.pub()), nonce, SEL);
            good = quoteAndVerify(tpm, ek, ak, before);
        }
        assertThat(good.isValid()).as(String.valueOf(good.detail())).isTrue();
        assertThat(good.attest().clockInfo().safe()).isTrue();

        // Killed with no TPM2_Shutdown and started again (swtpm runs TPM2_Startup(CLEAR) itself).
        swtpm.powerLoss();

        try (Tpm2 tpm = Tpm2.open(swtpm.uri()); TpmKey ek = Endorsement.load(tpm, EkTemplate.RSA_2048)) {
            QuoteExpectation e = QuoteExpectation.of(ak.pub(), QualifiedName.ofAkUnderEk(ek.pub(), ak.pub()), nonce(),
                    SEL);
            QuoteResult unsafe = quoteAndVerify(tpm, ek, ak, e);
            assertThat(unsafe.isValid()).isFalse();
            assertThat(unsafe.failure()).isEqualTo(QuoteFailure.CLOCK_NOT_SAFE);
            // Signature, signer, nonce and PCRs all verified before this check: safe is the only thing wrong.
            assertThat(unsafe.attest().clockInfo().safe()).isFalse();
            assertThat(Integer.toUnsignedLong(unsafe.attest().clockInfo().resetCount()))
                    .isGreaterThan(Integer.toUnsignedLong(good.attest().clockInfo().resetCount()));

            // TPM2_ClockSet past the next NV clock update makes the TPM write its clock, and safe is YES again.
            long now = unsafe.attest().clockInfo().clock();
            tpm.tss().ClockSet(TPM_HANDLE.from(TPM_RH.OWNER), now + (1L << 23));
            QuoteExpectation e2 = QuoteExpectation.of(ak.pub(), QualifiedName.ofAkUnderEk(ek.pub(), ak.pub()),
                    nonce(), SEL);
            QuoteResult safeAgain = quoteAndVerify(tpm, ek, ak, e2);
            assertThat(safeAgain.isValid()).as(String.valueOf(safeAgain.detail())).isTrue();
            assertThat(safeAgain.attest().clockInfo().safe()).isTrue();
        }
    }

    private QuoteResult quoteAndVerify(Tpm2 tpm, TpmKey ek, AttestationKey ak, QuoteExpectation e) {
        QuoteEvidence q;
        try (TpmKey k = ak.load(tpm, ek)) {
            q = Quoter.quote(tpm, k, e.nonce(), SEL);
        }
        return verifier.verify(e, q.attest(), q.signature(), q.pcrs());
    }

    private static byte[] nonce() {
        byte[] b = new byte[20];
        RANDOM.nextBytes(b);
        return b;
    }
}
