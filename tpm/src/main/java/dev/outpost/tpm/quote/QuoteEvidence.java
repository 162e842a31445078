package dev.outpost.tpm.quote;

import dev.outpost.tpm.wire.PcrValues;

/**
 * A quote as the TPM produced it: TPMS_ATTEST and TPMT_SIGNATURE bytes, and the PCR values it covers.
 */
public record QuoteEvidence(byte[] attest, byte[] signature, PcrValues pcrs) {
}
