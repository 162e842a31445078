package dev.outpost.mqtt.protocol;

import static com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * A quote by the enrolled AK over the resume nonce (TPMS_ATTEST, TPMT_SIGNATURE, tpm2-tools PCR file, all base64)
 * and a CSR for a new node key; answered with a probationary SVID, as an activation is.
 * @param nodeKeyPublic    TPM2B_PUBLIC of the CSR's key as the TPM made it, base64; with the next two, the proof that
 *                         the key lives in the device's TPM (null for a software node key)
 * @param certifyInfo      TPMS_ATTEST of TPM2_Certify of that key by the AK, base64, its extraData being
 *                         the resume nonce
 * @param certifySignature the AK's TPMT_SIGNATURE over certifyInfo, base64
 */
public record ResumeRequest(int v, String nonce, String attest, String signature, String pcrs, String csr,
        @OptionalField @JsonInclude(NON_NULL) String nodeKeyPublic,
        @OptionalField @JsonInclude(NON_NULL) String certifyInfo,
        @OptionalField @JsonInclude(NON_NULL) String certifySignature) implements Messages {

    /** Without a certification: a software node key. */
    public ResumeRequest(int v, String nonce, String attest, String signature, String pcrs, String csr) {
        this(v, nonce, attest, signature, pcrs, csr, null, null, null);
    }
}
