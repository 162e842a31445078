package dev.outpost.ima.boot;

/**
 * One reason a boot log does not meet its policy.
 *
 * @param eventIndex index of the offending event in the log, -1 when the failure is about no single event
 * @param id stable identifier ({@link BootFailureIds}) for alerts and APIs
 * @param message one line for a person
 */
public record BootFailure(int eventIndex, String id, String message) {
}
