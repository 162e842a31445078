package dev.outpost.ima.verify;

import java.util.List;

import dev.outpost.ima.replay.ReplayVariant;

/**
 * Outcome of one verification.
 *
 * @param passed         no failure in the entries the quote covers, and the quote matched
 * @param firstIndex     index of the first entry this call was given (the previous state's nextIndex)
 * @param entriesRead    entries read from the input, including any beyond the quote
 * @param entriesMatched new entries covered by the quote (the replayed prefix); the rest waits for the next quote
 * @param violations     violation entries in the covered prefix (all entries read when nothing matched); replayed
 *                       and counted, their paths not judged; failures only under {@link ViolationHandling#FAIL}
 * @param violationsSinceBoot the previous state's count plus {@code violations}: all violations the device's list
 *                       holds up to the covered prefix, while the state is continued
 * @param replayedPcr    PCR 10 after the covered prefix (or after all entries when nothing matched)
 * @param variant        how the bank was extended, null when the quote did not match or there was no quote
 * @param failures       at most {@link IncrementalImaVerifier#MAX_FAILURES} failures, in list order
 * @param failureCount   all failures, including those not kept
 * @param nextState      what to store: advanced on pass, reset to entry 0 on failure
 */
public record ImaVerificationResult(boolean passed, long firstIndex, long entriesRead, long entriesMatched,
        long violations, long violationsSinceBoot, byte[] replayedPcr, ReplayVariant variant, List<ImaFailure> failures, long failureCount,
        ImaState nextState) {

    /** True when the input itself was unusable (unparseable entries), as opposed to a policy or PCR failure. */
    public boolean inputError() {
        return failures.stream().anyMatch(f -> f.eventId().equals(EventIds.PARSER)
                || f.eventId().equals(EventIds.OFFSET));
    }
}
