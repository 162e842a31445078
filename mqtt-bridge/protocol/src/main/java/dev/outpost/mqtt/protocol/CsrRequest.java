package dev.outpost.mqtt.protocol;

import static com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * Device → appliance, over mTLS with its current SVID: renew it for a (new) node key; only the key is used, the
 * CA decides the identity.
 *
 * @param csr DER, base64
 * @param nodeKeyPublic    TPM2B_PUBLIC of the CSR's key as the TPM made it, base64; with the next two, the proof that
 *                         the key lives in the device's TPM (null for a software node key)
 * @param certifyInfo      TPMS_ATTEST of TPM2_Certify of that key by the AK, base64, its extraData being
 *                         SHA-256 of the CSR (DER): this path has no appliance nonce
 * @param certifySignature the AK's TPMT_SIGNATURE over certifyInfo, base64
 */
public record CsrRequest(int v, String csr, @OptionalField @JsonInclude(NON_NULL) String nodeKeyPublic,
        @OptionalField @JsonInclude(NON_NULL) String certifyInfo,
        @OptionalField @JsonInclude(NON_NULL) String certifySignature)
        implements Messages {

    /** Without a certification: a software node key. */
    public CsrRequest(int v, String csr) {
        this(v, csr, null, null, null);
    }
}
