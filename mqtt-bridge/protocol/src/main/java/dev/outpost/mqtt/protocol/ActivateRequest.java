package dev.outpost.mqtt.protocol;

import static com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * Device → appliance: the secret ActivateCredential released, and the CSR of the node key. They travel together
 * so that only the holder of the TPM can obtain the first SVID: a CSR sent on its own by anyone claiming the
 * device id would otherwise be enough.
 *
 * @param secret base64
 * @param csr    PKCS#10 DER of the node key, base64
 * @param nodeKeyPublic    TPM2B_PUBLIC of the CSR's key as the TPM made it, base64; with the next two, the proof that
 *                         the key lives in the device's TPM (null for a software node key)
 * @param certifyInfo      TPMS_ATTEST of TPM2_Certify of that key by the AK, base64, its extraData being
 *                         SHA-256 of the secret
 * @param certifySignature the AK's TPMT_SIGNATURE over certifyInfo, base64
 */
public record ActivateRequest(int v, String secret, String csr, @OptionalField @JsonInclude(NON_NULL) String nodeKeyPublic,
        @OptionalField @JsonInclude(NON_NULL) String certifyInfo,
        @OptionalField @JsonInclude(NON_NULL) String certifySignature) implements Messages {

    /** Without a certification: a software node key. */
    public ActivateRequest(int v, String secret, String csr) {
        this(v, secret, csr, null, null, null);
    }
}
