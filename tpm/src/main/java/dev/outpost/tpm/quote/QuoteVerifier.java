package dev.outpost.tpm.quote;

import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Optional;

import dev.outpost.tpm.wire.PcrSelection;
import dev.outpost.tpm.wire.PcrValues;
import dev.outpost.tpm.wire.TpmFormatException;
import dev.outpost.tpm.wire.TpmsAttest;
import dev.outpost.tpm.wire.TpmtSignature;

/**
 * Verifies a TPM2_Quote in pure Java. The signature is checked first, over the raw TPMS_ATTEST bytes, so that
 * nothing an attacker wrote is trusted before it is known to come from the TPM; then every field the
 * verifier has an expectation for. Stateless and thread-safe.
 */
public final class QuoteVerifier {
    private static final HexFormat HEX = HexFormat.of();

    public QuoteResult verify(QuoteExpectation expected, byte[] attestBytes, byte[] signatureBytes, PcrValues pcrs) {
        TpmtSignature sig;
        try {
            sig = TpmtSignature.parse(signatureBytes);
        } catch (TpmFormatException e) {
            return QuoteResult.invalid(QuoteFailure.MALFORMED, e.getMessage(), null);
        }
        Optional<String> schemeProblem = AttestSignature.schemeProblem(expected.akKey(), expected.akPublic(), sig);
        if (schemeProblem.isPresent()) {
            return QuoteResult.invalid(QuoteFailure.SCHEME_MISMATCH, schemeProblem.get(), null);
        }
        if (!AttestSignature.verifies(expected.akKey(), sig, attestBytes)) {
            return QuoteResult.invalid(QuoteFailure.BAD_SIGNATURE,
                    sig.schemeName() + "/" + sig.hash() + " signature does not verify", null);
        }
        TpmsAttest attest;
        try {
            attest = TpmsAttest.parse(attestBytes);
        } catch (TpmFormatException e) {
            return QuoteResult.invalid(QuoteFailure.MALFORMED, e.getMessage(), null);
        }
        if (attest.magic() != TpmsAttest.TPM_GENERATED_VALUE) {
            return QuoteResult.invalid(QuoteFailure.BAD_MAGIC, "magic 0x" + Integer.toHexString(attest.magic()), attest);
        }
        if (attest.type() != TpmsAttest.ST_ATTEST_QUOTE) {
            return QuoteResult.invalid(QuoteFailure.NOT_A_QUOTE, "type 0x" + Integer.toHexString(attest.type()), attest);
        }
        if (expected.signerQn() != null && !MessageDigest.isEqual(expected.signerQn(), attest.qualifiedSigner())) {
            return QuoteResult.invalid(QuoteFailure.WRONG_SIGNER, "signed by " + HEX.formatHex(attest.qualifiedSigner())
                    + ", expected " + HEX.formatHex(expected.signerQn()), attest);
        }
        if (!MessageDigest.isEqual(expected.nonce(), attest.extraData())) {
            return QuoteResult.invalid(QuoteFailure.NONCE_MISMATCH, "extraData " + HEX.formatHex(attest.extraData())
                    + " is not the nonce issued", attest);
        }
        PcrSelection quoted = attest.pcrSelect();
        if (!quoted.equals(expected.selection())) {
            return QuoteResult.invalid(QuoteFailure.SELECTION_MISMATCH, "quoted " + quoted + ", asked for "
                    + expected.selection(), attest);
        }
        Optional<byte[]> digest = pcrs.digest(quoted, sig.hash());
        if (digest.isEmpty()) {
            return QuoteResult.invalid(QuoteFailure.PCR_VALUES_MISSING, "values supplied for " + pcrs.selection()
                    + ", quote covers " + quoted, attest);
        }
        if (!MessageDigest.isEqual(digest.get(), attest.pcrDigest())) {
            return QuoteResult.invalid(QuoteFailure.PCR_DIGEST_MISMATCH, "supplied values hash to "
                    + HEX.formatHex(digest.get()) + ", quote has " + HEX.formatHex(attest.pcrDigest()), attest);
        }
        if (!attest.clockInfo().safe()) {
            return QuoteResult.invalid(QuoteFailure.CLOCK_NOT_SAFE, "clock " + attest.clockInfo().clock(), attest);
        }
        return QuoteResult.valid(attest);
    }
}
