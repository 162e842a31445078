package dev.outpost.mqtt.protocol;

/**
 * Device → appliance: evidence for one challenge, in one or more parts so each message fits the size limits.
 * Every part names the nonce; the quote travels in the last part ({@code more == false}), which the appliance
 * answers with a {@link Verdict}; earlier parts are answered with {@link EvidenceAccepted}.
 *
 * @param nonce      the challenge's nonce, base64
 * @param part       0, 1, 2, ... in order
 * @param more       true when further parts follow
 * @param imaEntries a slice of the binary IMA list (whole entries), base64, or null
 * @param bootLog    a slice of the TCG boot event log, base64, or null
 * @param attest     TPMS_ATTEST, base64 (last part only)
 * @param signature  TPMT_SIGNATURE, base64 (last part only)
 * @param pcrs       the quoted PCR values as the tpm2-tools PCR file, base64 (last part only)
 * @param csr        PKCS#10 DER of a new node key, base64, when the SVID is due for renewal (last part only):
 *                   the renewed SVID comes back in the verdict, and only with a passing one
 */
public record EvidenceRequest(int v, String nonce, int part, boolean more, String imaEntries, String bootLog,
        String attest, String signature, String pcrs, String csr) implements Messages {
}
