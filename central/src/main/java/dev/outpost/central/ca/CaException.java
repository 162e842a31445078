package dev.outpost.central.ca;

/** Central's CA cannot be loaded, made, imported or cannot sign; the message says why. */
public final class CaException extends RuntimeException {
    public CaException(String message) {
        super(message);
    }

    public CaException(String message, Throwable cause) {
        super(message, cause);
    }
}
