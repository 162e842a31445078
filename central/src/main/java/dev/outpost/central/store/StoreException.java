package dev.outpost.central.store;

/** The database failed (not a refusal): the API answers INTERNAL without detail, the log has the cause. */
public final class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }

    public StoreException(String message) {
        super(message);
    }
}
