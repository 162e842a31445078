package dev.outpost.tpm.quote;

/** Why a quote was rejected; stable names for logs, APIs and metrics. */
public enum QuoteFailure {
    MALFORMED("the quote, signature or key cannot be parsed"),
    BAD_SIGNATURE("the signature does not verify with the attestation key"),
    SCHEME_MISMATCH("the signature scheme or hash is not the attestation key's"),
    BAD_MAGIC("TPMS_ATTEST.magic is not TPM_GENERATED_VALUE"),
    NOT_A_QUOTE("TPMS_ATTEST.type is not TPM_ST_ATTEST_QUOTE"),
    WRONG_SIGNER("qualifiedSigner is not the expected attestation key"),
    NONCE_MISMATCH("extraData is not the nonce"),
    SELECTION_MISMATCH("the quoted PCR selection is not the one asked for"),
    PCR_VALUES_MISSING("a quoted PCR has no supplied value"),
    PCR_DIGEST_MISMATCH("the supplied PCR values do not hash to the quoted pcrDigest"),
    CLOCK_NOT_SAFE("clockInfo.safe is NO: the TPM clock may have gone backwards");

    private final String description;

    QuoteFailure(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }
}
