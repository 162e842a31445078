package dev.outpost.ima.list;

/** A measurement list that cannot be read; the message names the byte offset or line and the reason. */
public final class ImaFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ImaFormatException(String message) {
        super(message);
    }

    public ImaFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
