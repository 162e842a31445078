package dev.outpost.appliance.ca;

/** The CA cannot start or cannot issue; the message says why in words an operator can act on. */
public class CaException extends RuntimeException {
    public CaException(String message) {
        super(message);
    }

    public CaException(String message, Throwable cause) {
        super(message, cause);
    }
}
