package dev.outpost.tpm.certify;

import dev.outpost.tpm.wire.TpmPublic;

/** The verdict on a key certification; a valid one carries the certified key's public area (and so its Name). */
public record CertifyResult(CertifyFailure failure, String detail, TpmPublic key) {

    static CertifyResult valid(TpmPublic key) {
        return new CertifyResult(null, "valid", key);
    }

    static CertifyResult invalid(CertifyFailure failure, String detail) {
        return new CertifyResult(failure, detail, null);
    }

    public boolean isValid() {
        return failure == null;
    }

    /** One line for logs and refusals: "valid" or "REASON: detail". */
    public String describe() {
        return isValid() ? "valid" : failure.name() + ": " + detail;
    }
}
