package dev.outpost.tpm.quote;

import java.security.MessageDigest;

import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.keys.TpmKey;
import dev.outpost.tpm.pcr.Pcrs;
import dev.outpost.tpm.wire.PcrSelection;
import dev.outpost.tpm.wire.PcrValues;
import dev.outpost.tpm.wire.TpmFormatException;
import dev.outpost.tpm.wire.TpmsAttest;
import dev.outpost.tpm.wire.TpmtSignature;
import tss.tpm.TPMS_NULL_SIG_SCHEME;

/** Asks a TPM for a quote and the PCR values it covers. */
public final class Quoter {
    private static final int MAX_ATTEMPTS = 5;

    private Quoter() {
    }

    /**
     * Quotes with the AK's own scheme. A PCR may be extended between the quote and the read of its value; then
     * the values do not match the quoted digest and we quote again, as a verifier would otherwise reject it.
     */
    public static QuoteEvidence quote(Tpm2 tpm, TpmKey ak, byte[] nonce, PcrSelection selection) {
        for (int attempt = 1; ; attempt++) {
            tpm.tss().Quote(ak.handle(), nonce, new TPMS_NULL_SIG_SCHEME(), Pcrs.toTss(selection));
            byte[][] raw = split(tpm.lastResponse());
            PcrValues values = Pcrs.read(tpm, selection);
            try {
                TpmsAttest attest = TpmsAttest.parse(raw[0]);
                TpmtSignature sig = TpmtSignature.parse(raw[1]);
                byte[] digest = values.digest(attest.pcrSelect(), sig.hash()).orElseThrow();
                if (MessageDigest.isEqual(digest, attest.pcrDigest()) || attempt == MAX_ATTEMPTS) {
                    return new QuoteEvidence(raw[0], raw[1], values);
                }
            } catch (TpmFormatException e) {
                throw new IllegalStateException("TPM returned a quote we cannot parse: " + e.getMessage(), e);
            }
        }
    }

    // TPM2_Quote response parameters: TPM2B_ATTEST quoted, TPMT_SIGNATURE signature.
    static byte[][] split(byte[] response) {
        return AttestResponse.split(response, "TPM2_Quote");
    }
}
