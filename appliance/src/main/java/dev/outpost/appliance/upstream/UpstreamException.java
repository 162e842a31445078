package dev.outpost.appliance.upstream;

/**
 * Central could not be reached, refused, or answered something we do not accept. {@link #status()} is the HTTP
 * status (0: no answer); {@link #code()} central's error code when it sent one.
 */
public class UpstreamException extends Exception {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final String code;

    public UpstreamException(int status, String code, String message) {
        super(message);
        this.status = status;
        this.code = code;
    }

    public UpstreamException(String message, Throwable cause) {
        super(message, cause);
        this.status = 0;
        this.code = null;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    /** Worth trying again later: no answer, rate limited, or central's own trouble. A refusal (4xx) is not. */
    public boolean transientFailure() {
        return status == 0 || status == 429 || status >= 500;
    }
}
