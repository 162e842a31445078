package dev.outpost.mqtt.protocol;

import static com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL;

import com.fasterxml.jackson.annotation.JsonInclude;

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
 * @param nodeKeyPublic    TPM2B_PUBLIC of the CSR's key as the TPM made it, base64 (last part, with a csr only); with the next two, the proof that
 *                         the key lives in the device's TPM (null for a software node key)
 * @param certifyInfo      TPMS_ATTEST of TPM2_Certify of that key by the AK, base64, its extraData being
 *                         the challenge nonce
 * @param certifySignature the AK's TPMT_SIGNATURE over certifyInfo, base64
 */
public record EvidenceRequest(int v, String nonce, int part, boolean more, String imaEntries, String bootLog,
        String attest, String signature, String pcrs, String csr, @OptionalField @JsonInclude(NON_NULL) String nodeKeyPublic,
        @OptionalField @JsonInclude(NON_NULL) String certifyInfo,
        @OptionalField @JsonInclude(NON_NULL) String certifySignature) implements Messages {

    /** Without a certification of the CSR's key: a software node key, or no CSR. */
    public EvidenceRequest(int v, String nonce, int part, boolean more, String imaEntries, String bootLog,
            String attest, String signature, String pcrs, String csr) {
        this(v, nonce, part, more, imaEntries, bootLog, attest, signature, pcrs, csr, null, null, null);
    }
}
