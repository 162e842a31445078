package dev.outpost.tpm.wire;

/** A TPM structure that cannot be parsed: the message names the structure, the byte offset and why. */
public class TpmFormatException extends Exception {
    private static final long serialVersionUID = 1L;

    public TpmFormatException(String message) {
        super(message);
    }
}
