package dev.outpost.central.refusal;

/**
 * A request central refuses, with the reason a peer or an operator is told. Thrown inside a transaction it rolls
 * the transaction back: a refused request changes nothing (except where the contract says otherwise: a TPM join
 * record is consumed whatever the outcome).
 */
public final class Refusal extends Exception {
    /** The error codes of docs/upward-link.md, with their HTTP status. */
    public enum Code {
        BAD_REQUEST(400), UNAUTHENTICATED(401), FORBIDDEN(403), NOT_FOUND(404), CONFLICT(409), TOO_LARGE(413),
        UNSUPPORTED_MEDIA_TYPE(415), RATE_LIMITED(429), INTERNAL(500);

        public final int status;

        Code(int status) {
            this.status = status;
        }
    }

    private final Code code;

    public Refusal(Code code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    public Code code() {
        return code;
    }

    public static Refusal badRequest(String m) {
        return new Refusal(Code.BAD_REQUEST, m);
    }

    public static Refusal forbidden(String m) {
        return new Refusal(Code.FORBIDDEN, m);
    }

    public static Refusal notFound(String m) {
        return new Refusal(Code.NOT_FOUND, m);
    }

    public static Refusal conflict(String m) {
        return new Refusal(Code.CONFLICT, m);
    }

    public static Refusal unauthenticated(String m) {
        return new Refusal(Code.UNAUTHENTICATED, m);
    }
}
