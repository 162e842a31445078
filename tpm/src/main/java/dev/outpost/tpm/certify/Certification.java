package dev.outpost.tpm.certify;

/**
 * What TPM2_Certify produced for a key: the key's TPM2B_PUBLIC, and the TPMS_ATTEST and TPMT_SIGNATURE bytes exactly
 * as the TPM returned them.
 */
public record Certification(byte[] keyPublic, byte[] attest, byte[] signature) {
}
