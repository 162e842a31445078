package dev.outpost.spiffe;

/** A CSR was refused; the message names the reason and is safe to send back to the device. */
public class CsrException extends Exception {
    public CsrException(String message) {
        super(message);
    }

    public CsrException(String message, Throwable cause) {
        super(message, cause);
    }
}
