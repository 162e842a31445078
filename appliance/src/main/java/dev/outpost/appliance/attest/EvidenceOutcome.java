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
     * @param passedAt     when the device passed (present only for a trusted verdict that was stored): an SVID
     *                     issued on it lasts at most {@code ca.svidTtl} from then
     */
    record Verdict(DeviceState state, List<String> reasons, Instant nextDueAt, Optional<Instant> passedAt)
            implements EvidenceOutcome {
    }
}
