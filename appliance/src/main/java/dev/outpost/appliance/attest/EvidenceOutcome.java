package dev.outpost.appliance.attest;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

import dev.outpost.appliance.store.DeviceState;

/** What the appliance made of an evidence part: the part was kept, or the evidence is complete and judged. */
public sealed interface EvidenceOutcome {

    /** A part before the last, buffered. */
    record PartAccepted(int part) implements EvidenceOutcome {
    }

    /**
     * The verdict on complete evidence.
     *
     * @param reasons      why it is not trusted, or notes on a pass; empty on a clean pass
     * @param trustedUntil when the identity this verdict earned runs out (present only for a trusted verdict): an
     *                     SVID issued on it must not outlive it
     */
    record Verdict(DeviceState state, List<String> reasons, Instant nextDueAt, Optional<Instant> trustedUntil)
            implements EvidenceOutcome {
    }
}
