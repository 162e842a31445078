package dev.outpost.appliance.metrics;

import dev.outpost.appliance.attest.EvidenceOutcome;

/** What the attestation service tells metrics: each verdict on complete evidence and how long judging took. */
@FunctionalInterface
public interface VerdictObserver {
    VerdictObserver NONE = (startedNanos, verdict) -> verdict;

    /**
     * @param startedNanos {@link System#nanoTime()} when judging began
     * @return {@code verdict}, so the hook wraps the call that judged
     */
    EvidenceOutcome.Verdict judged(long startedNanos, EvidenceOutcome.Verdict verdict);
}
