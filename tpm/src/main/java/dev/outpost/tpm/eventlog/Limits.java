package dev.outpost.tpm.eventlog;

/**
 * Bounds that keep a hostile log from costing more than a real one would.
 *
 * <p>PCR indexes above {@code maxPcrIndex} are rejected, with one exception when
 * {@code allowNoActionPcrAllOnes} is set: an EV_NO_ACTION record in "PCR" 0xFFFFFFFF. Windows logs end with
 * such a record (go-attestation's option_rom_eventlog has one); it is never extended, so accepting it costs
 * nothing, while any other out-of-range index means the log is corrupt.
 */
public record Limits(int maxLogBytes, int maxEvents, int maxEventDataBytes, int maxAlgorithms, int maxPcrIndex,
                     boolean allowNoActionPcrAllOnes) {

    /** 16 MiB, 100,000 events, 1 MiB per event, 16 algorithms, PCRs 0..23, the Windows trailer allowed. */
    public static final Limits DEFAULT = new Limits(16 << 20, 100_000, 1 << 20, 16, 23, true);

    public Limits {
        if (maxLogBytes < 0 || maxEvents < 0 || maxEventDataBytes < 0 || maxAlgorithms < 1
                || maxPcrIndex < 0 || maxPcrIndex > 31) {
            throw new IllegalArgumentException("invalid event log limits");
        }
    }
}
