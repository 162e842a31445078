package dev.outpost.ima.policy;

/** A policy that must not be used; the message starts with the JSON path (or line) at fault. */
public final class PolicyException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public PolicyException(String message) {
        super(message);
    }

    public PolicyException(String message, Throwable cause) {
        super(message, cause);
    }

    static PolicyException at(String path, String reason) {
        return new PolicyException(path + ": " + reason);
    }
}
