package dev.outpost.ima.boot;

/**
 * Stable failure identifiers. Signature database ids are built by {@link #db}: {@code boot.<pk|kek|db|dbx>.<what>}.
 * They are part of the API: alerts and dashboards key on them, so never rename one.
 */
public final class BootFailureIds {
    /** A quoted PCR in 0..9 that the log touches does not equal the log's replay: no event can be believed. */
    public static final String REPLAY_MISMATCH = "boot.log.replay_mismatch";
    /** A check needs events of a PCR the quote does not cover, so those events prove nothing. */
    public static final String PCR_NOT_QUOTED = "boot.log.pcr_not_quoted";
    /** An event's data does not hash to its proven digest, so its content (a variable, a command line) is a claim. */
    public static final String DATA_MISMATCH = "boot.log.data_mismatch";
    /** The log has no bank the quote covers (e.g. a SHA-1-only log against a SHA-256 quote). */
    public static final String NO_COMMON_BANK = "boot.log.no_common_bank";

    public static final String SECUREBOOT_DISABLED = "boot.secureboot.disabled";
    public static final String SECUREBOOT_NOT_MEASURED = "boot.secureboot.not_measured";
    public static final String SECUREBOOT_MEASURED_TWICE = "boot.secureboot.measured_twice";

    public static final String APPLICATION_NOT_ALLOWED = "boot.application.not_allowed";
    public static final String APPLICATION_NOT_MEASURED = "boot.application.not_measured";

    public static final String CMDLINE_NOT_ALLOWED = "boot.cmdline.not_allowed";
    public static final String CMDLINE_NOT_MEASURED = "boot.cmdline.not_measured";

    /** An event an eventDigests rule selects carries none of its allowed digests. */
    public static final String EVENT_NOT_ALLOWED = "boot.event.not_allowed";
    /** An eventDigests rule selects no event at all. */
    public static final String EVENT_NOT_MEASURED = "boot.event.not_measured";

    public static final String PCR_MISMATCH = "boot.pcr.mismatch";
    /** The policy expects a PCR value that neither the quote (online) nor the log (offline) provides. */
    public static final String PCR_MISSING = "boot.pcr.missing";

    /** Suffixes for {@link #db}. */
    public static final String NOT_MEASURED = "not_measured";
    public static final String MEASURED_TWICE = "measured_twice";
    public static final String UNDECODABLE = "undecodable";
    public static final String UNEXPECTED_CERT = "unexpected_cert";
    public static final String UNEXPECTED_HASH = "unexpected_hash";
    public static final String UNEXPECTED_ENTRY = "unexpected_entry";
    public static final String MISSING_CERT = "missing_cert";
    public static final String MISSING_HASH = "missing_hash";
    public static final String MISSING_ENTRY = "missing_entry";

    private BootFailureIds() {
    }

    /** {@code boot.<variable lowercased>.<what>}, e.g. boot.db.unexpected_cert. */
    public static String db(String variable, String what) {
        return "boot." + variable.toLowerCase(java.util.Locale.ROOT) + "." + what;
    }
}
