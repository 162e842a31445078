package dev.outpost.tpm.eventlog;

/** A log that cannot be read safely: truncated, inconsistent, over a limit or hostile. */
public final class EventLogException extends Exception {
    private static final long serialVersionUID = 1L;

    private final long offset;
    private final String reason;

    /** {@code offset} is the byte offset in the log where reading stopped. */
    public EventLogException(long offset, String reason) {
        super("event log at byte offset " + offset + ": " + reason);
        this.offset = offset;
        this.reason = reason;
    }

    /** What was wrong, without the offset. */
    public String reason() {
        return reason;
    }

    /** Byte offset in the log where the problem was found. */
    public long offset() {
        return offset;
    }
}
