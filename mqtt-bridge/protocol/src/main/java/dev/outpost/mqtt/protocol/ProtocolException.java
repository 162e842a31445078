package dev.outpost.mqtt.protocol;

/** A request the appliance refuses, with the code and the reason it tells the device. */
public class ProtocolException extends Exception {
    private static final long serialVersionUID = 1L;
    private final ErrorCode code;
    private final long retryAfterMs;

    public ProtocolException(ErrorCode code, String message) {
        this(code, message, 0);
    }

    /** @param retryAfterMs how long the device should wait before it asks again (0: no hint) */
    public ProtocolException(ErrorCode code, String message, long retryAfterMs) {
        super(message);
        this.code = code;
        this.retryAfterMs = Math.max(0, retryAfterMs);
    }

    public ErrorCode code() {
        return code;
    }

    /** The appliance's hint for when to ask again, in milliseconds; 0 when it gave none. */
    public long retryAfterMs() {
        return retryAfterMs;
    }
}
