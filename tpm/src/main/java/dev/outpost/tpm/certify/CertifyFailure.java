package dev.outpost.tpm.certify;

/** Why a key certification was refused; stable names for logs, APIs and metrics. */
public enum CertifyFailure {
    MISSING("no certification of the node key was sent"),
    MALFORMED("the certification, signature or key cannot be parsed"),
    SCHEME_MISMATCH("the signature scheme or hash is not the attestation key's"),
    BAD_SIGNATURE("the signature does not verify with the device's attestation key"),
    BAD_MAGIC("TPMS_ATTEST.magic is not TPM_GENERATED_VALUE"),
    NOT_A_CERTIFICATION("TPMS_ATTEST.type is not TPM_ST_ATTEST_CERTIFY"),
    WRONG_SIGNER("qualifiedSigner is not the device's attestation key"),
    NONCE_MISMATCH("extraData is not the nonce the appliance chose"),
    NAME_MISMATCH("the certified Name is not the Name of the key presented"),
    WEAK_NAME_ALG("the key's name algorithm is weaker than SHA-256"),
    WRONG_ATTRIBUTES("the key is not a TPM-bound, TPM-generated, unrestricted signing key"),
    KEY_MISMATCH("the certified key is not the key in the CSR");

    private final String description;

    CertifyFailure(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }
}
