package dev.outpost.appliance.refusal;

import java.util.Objects;

/**
 * A decision of the appliance's services not to do what a device asked, with the reason in words an operator and
 * the device's owner understand. The services know nothing of the wire: the device protocol layer maps {@link Why}
 * to its error codes.
 */
public final class Refusal extends Exception {
    private static final long serialVersionUID = 1L;

    /** Why, in kinds a protocol can answer differently (retry later, re-enroll, give up until an operator acts). */
    public enum Why {
        /** The request's content is malformed (a structure, a CSR, a key). */
        MALFORMED,
        /** The request carries more than allowed. */
        TOO_LARGE,
        /** The request names or answers something that is not this device's (another EK, another nonce). */
        NOT_YOURS,
        /** The EK is not trusted or the AK is unfit. */
        NOT_TRUSTED,
        /** No passing attestation is fresh enough for what was asked (an SVID). */
        NO_FRESH_ATTESTATION,
        /** The credential activation answer is wrong, replayed or missing. */
        ACTIVATION_FAILED,
        /** What the request answers (a challenge, an activation) has expired. */
        EXPIRED,
        /** The appliance is busy with other devices' work; try again in a little while. */
        BUSY,
        /** The device is not enrolled. */
        NOT_ENROLLED,
        /** The device failed attestation and is held until an operator clears it. */
        ATTESTATION_FAILED,
        /** An operator revoked the device. */
        REVOKED
    }

    private final Why why;

    public Refusal(Why why, String reason) {
        super(Objects.requireNonNull(reason, "reason"), null, false, false);
        this.why = Objects.requireNonNull(why, "why");
    }

    public Why why() {
        return why;
    }
}
