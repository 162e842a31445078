package dev.outpost.ima.boot;

import java.security.MessageDigest;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.eventlog.ReplayResult;
import dev.outpost.tpm.wire.PcrValues;

/**
 * Which parts of a log the quote vouches for. A log is a claim by the device; only the replay against PCR values
 * from a verified quote turns a PCR's events into evidence, and only in the banks that were quoted.
 */
final class LogTrust {
    /** PCRs the firmware and boot loaders own; later PCRs are shared with the running OS and may move on. */
    static final int LAST_BOOT_PCR = 9;

    private final boolean offline;
    /** PCR → the banks in which the quote proved it; a PCR quoted only in SHA-1 proves nothing about SHA-256. */
    private final Map<Integer, Set<HashAlg>> believed;
    private final Set<HashAlg> logBanks;

    private LogTrust(boolean offline, Map<Integer, Set<HashAlg>> believed, Set<HashAlg> logBanks) {
        this.offline = offline;
        this.believed = believed;
        this.logBanks = logBanks;
    }

    /** No quote: every event is taken at its word, and every bank the log has counts. */
    static LogTrust offline(ReplayResult replay) {
        Set<HashAlg> b = EnumSet.noneOf(HashAlg.class);
        b.addAll(replay.banks());
        return new LogTrust(true, Map.of(), b);
    }

    /**
     * Replays against the quote. Every quoted PCR in 0..9 must equal the log's replay; one the log never touches
     * must still be at its reset value (otherwise the log leaves out what was extended). A failure here is
     * reported and makes everything else moot: the caller stops. PCRs above 9 are believed only when they match,
     * and a mismatch there is no failure (the OS may have extended them since).
     */
    static LogTrust check(ReplayResult replay, PcrValues quoted, List<BootFailure> failures) {
        Set<HashAlg> common = EnumSet.noneOf(HashAlg.class);
        for (HashAlg bank : quoted.banks()) {
            if (replay.banks().contains(bank) && !quoted.bank(bank).isEmpty()) {
                common.add(bank);
            }
        }
        Map<Integer, Set<HashAlg>> believed = new HashMap<>();
        if (common.isEmpty()) {
            failures.add(new BootFailure(-1, BootFailureIds.NO_COMMON_BANK, "the log has none of the quoted banks "
                    + "(log: " + replay.banks() + ", quote: " + quoted.selection() + ")"));
            return new LogTrust(false, believed, common);
        }
        boolean mismatch = false;
        for (HashAlg bank : common) {
            SortedMap<Integer, byte[]> replayed = replay.pcrs(bank);
            for (Map.Entry<Integer, byte[]> q : quoted.bank(bank).entrySet()) {
                int pcr = q.getKey();
                byte[] fromLog = replayed.get(pcr);
                boolean ok = fromLog == null ? isZero(q.getValue()) : MessageDigest.isEqual(fromLog, q.getValue());
                if (ok) {
                    believed.computeIfAbsent(pcr, k -> EnumSet.noneOf(HashAlg.class)).add(bank);
                } else if (pcr <= LAST_BOOT_PCR) {
                    mismatch = true;
                    failures.add(new BootFailure(-1, BootFailureIds.REPLAY_MISMATCH, fromLog == null
                            ? String.format("PCR %s:%d is %s but the log has no event for it", bank, pcr,
                                    hex(q.getValue()))
                            : String.format("PCR %s:%d is %s but the log replays to %s", bank, pcr,
                                    hex(q.getValue()), hex(fromLog))));
                }
            }
        }
        if (mismatch) {
            believed.clear();
        }
        return new LogTrust(false, believed, common);
    }

    boolean offline() {
        return offline;
    }

    /** Whether events logged for this PCR may be used as evidence. */
    boolean believes(int pcr) {
        return offline || believed.containsKey(pcr);
    }

    /** The banks in which this PCR's digests were proven by the quote (all of the log's banks offline). */
    Set<HashAlg> banks(int pcr) {
        return offline ? logBanks : believed.getOrDefault(pcr, Set.of());
    }

    private static boolean isZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
