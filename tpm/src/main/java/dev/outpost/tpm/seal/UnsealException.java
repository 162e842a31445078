package dev.outpost.tpm.seal;

/** Unsealing failed; {@link #reason()} says why in a way an operator can act on. */
public final class UnsealException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Why a sealed object did not unseal. */
    public enum Reason {
        /** The blob's private part does not load under this TPM's storage key: it was sealed to another TPM. */
        OTHER_TPM,
        /** The PCRs in the policy no longer hold the values it was sealed to (the machine booted something else). */
        PCRS_CHANGED,
        /** The blob is damaged or not a sealed blob. */
        DAMAGED,
        /** Anything else the TPM refused. */
        TPM_ERROR
    }

    private final Reason reason;

    public UnsealException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
