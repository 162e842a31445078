package dev.outpost.mqtt.protocol;

/** Error codes of protocol replies; stable, documented in docs/protocol.md. */
public enum ErrorCode {
    /** The message is not valid JSON, misses a field, has a field of the wrong form, or an unknown field. */
    BAD_REQUEST,
    /** The {@code v} field names a protocol version this appliance does not speak. */
    UNSUPPORTED_VERSION,
    /** The payload is over the size limit of its kind. */
    TOO_LARGE,
    /** This kind needs a node SVID on the connection. */
    UNAUTHORIZED,
    /** The topic names another device than the connection's, or the client may not do this. */
    FORBIDDEN,
    /** The EK is not trusted (not allowed, no valid chain to a manufacturer CA), or the AK is unfit. */
    NOT_TRUSTED,
    /** The credential activation answer is wrong, replayed or missing. */
    ACTIVATION_FAILED,
    /** What the request refers to (activation, nonce) has expired. */
    EXPIRED,
    /** Too many requests; try again later. */
    RATE_LIMITED,
    /** The device is not enrolled (or its enrollment is incomplete). */
    NOT_ENROLLED,
    /** The device was revoked by an operator. */
    REVOKED,
    /** The device failed attestation; it is refused until an operator clears it. */
    ATTESTATION_FAILED,
    /** The appliance failed; the request may be repeated. */
    INTERNAL
}
