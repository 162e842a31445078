package dev.outpost.tpm.nvanchor;

/**
 * A TPM2_NV_Certify result as the TPM produced it.
 *
 * @param attest    TPMS_ATTEST bytes (type TPM_ST_ATTEST_NV), exactly as signed
 * @param signature TPMT_SIGNATURE by the AK over {@code attest}
 */
public record NvCertification(byte[] attest, byte[] signature) {
}
