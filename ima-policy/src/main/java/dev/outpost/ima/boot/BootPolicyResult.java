package dev.outpost.ima.boot;

import java.util.List;

/**
 * The verdict on one boot log.
 *
 * @param passed true only when there is no failure
 * @param eventsRead events in the log, the Spec ID header included
 * @param pcrsChecked true when the log was replayed against quoted PCR values; false for an offline check, whose
 *     pass means only "the log's content meets the policy", not "this machine booted it"
 * @param failures every failure, in the order the checks ran
 */
public record BootPolicyResult(boolean passed, int eventsRead, boolean pcrsChecked, List<BootFailure> failures) {
    public BootPolicyResult {
        failures = List.copyOf(failures);
    }
}
