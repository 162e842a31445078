package dev.outpost.central.refusal;

/** Carries a {@link Refusal} out of a transaction (whose work may only throw unchecked), rolling it back. */
public final class RefusedInTransaction extends RuntimeException {
    private final Refusal refusal;

    public RefusedInTransaction(Refusal refusal) {
        super(refusal.getMessage(), null, false, false);
        this.refusal = refusal;
    }

    public Refusal refusal() {
        return refusal;
    }
}
