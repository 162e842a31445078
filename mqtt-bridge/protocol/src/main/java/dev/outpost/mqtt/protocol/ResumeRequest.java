package dev.outpost.mqtt.protocol;

/**
 * A quote by the enrolled AK over the resume nonce (TPMS_ATTEST, TPMT_SIGNATURE, tpm2-tools PCR file, all base64)
 * and a CSR for a new node key; answered with a probationary SVID, as an activation is.
 */
public record ResumeRequest(int v, String nonce, String attest, String signature, String pcrs, String csr)
        implements Messages {
}
