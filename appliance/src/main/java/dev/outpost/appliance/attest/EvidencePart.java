package dev.outpost.appliance.attest;

/**
 * One part of the evidence for a challenge, decoded. Parts before the last carry log slices only; the last one
 * ({@code more} false) carries the quote.
 *
 * @param ima     a slice of the IMA list (binary), empty when none
 * @param bootLog a slice of the boot event log, empty when none
 * @param attest  TPMS_ATTEST as the TPM signed it (last part)
 * @param pcrs    the PCR values in tpm2-tools' file layout (last part)
 */
public record EvidencePart(byte[] nonce, int part, boolean more, byte[] ima, byte[] bootLog, byte[] attest,
        byte[] signature, byte[] pcrs) {
}
