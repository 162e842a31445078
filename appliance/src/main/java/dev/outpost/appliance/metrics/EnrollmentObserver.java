package dev.outpost.appliance.metrics;

import dev.outpost.appliance.refusal.Refusal;

/** What the enrollment service tells metrics: each step it allowed or refused. */
@FunctionalInterface
public interface EnrollmentObserver {
    EnrollmentObserver NONE = (action, refusedFor) -> {
    };

    /**
     * @param action     the service's audit action ({@code enroll}, {@code activate}, {@code renew}, {@code issue})
     * @param refusedFor why it was refused, or null when it was allowed
     */
    void outcome(String action, Refusal.Why refusedFor);
}
