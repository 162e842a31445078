package dev.outpost.tpm.quote;

import dev.outpost.tpm.wire.TpmsAttest;

/**
 * The verdict on one quote. A valid result carries the parsed TPMS_ATTEST so the caller can check the clock
 * and the reset/restart counters against the device's previous quote.
 */
public record QuoteResult(QuoteFailure failure, String detail, TpmsAttest attest) {

    static QuoteResult valid(TpmsAttest attest) {
        return new QuoteResult(null, "valid", attest);
    }

    static QuoteResult invalid(QuoteFailure failure, String detail, TpmsAttest attest) {
        return new QuoteResult(failure, detail, attest);
    }

    public boolean isValid() {
        return failure == null;
    }

    /** One line for logs and CLI output: "valid" or "REASON: detail". */
    public String describe() {
        return isValid() ? "valid" : failure.name() + ": " + detail;
    }
}
