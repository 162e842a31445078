package dev.outpost.ima.boot;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import dev.outpost.tpm.eventlog.Event;
import dev.outpost.tpm.eventlog.EventLog;

/** What every check needs: the log, what the quote vouches for, and where failures go. */
final class CheckContext {
    final EventLog log;
    final LogTrust trust;
    final List<BootFailure> failures;
    private final Set<Integer> reportedUnquoted = new HashSet<>();

    CheckContext(EventLog log, LogTrust trust, List<BootFailure> failures) {
        this.log = log;
        this.trust = trust;
        this.failures = failures;
    }

    void fail(int index, String id, String message) {
        failures.add(new BootFailure(index, id, message));
    }

    /** Events of one PCR and type; reports once per PCR when the quote does not cover it (and returns none). */
    List<Event> events(int pcr, int rawType, String purpose) {
        if (!trust.believes(pcr)) {
            if (reportedUnquoted.add(pcr)) {
                fail(-1, BootFailureIds.PCR_NOT_QUOTED, "PCR " + pcr + " is needed for " + purpose
                        + " but is not in the quote (or does not match it)");
            }
            return List.of();
        }
        List<Event> out = new ArrayList<>();
        for (Event e : log.events()) {
            if (e.pcr() == pcr && e.rawType() == rawType) {
                out.add(e);
            }
        }
        return out;
    }
}
