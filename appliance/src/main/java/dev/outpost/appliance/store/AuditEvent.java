package dev.outpost.appliance.store;

import java.time.Instant;
import java.util.Locale;

/**
 * One audit record. {@code id} is null until stored.
 *
 * @param deviceId null for site-wide events
 * @param action   what was attempted, e.g. {@code enroll}, {@code issue-svid}, {@code revoke}
 * @param reason   why the decision went this way; never empty
 */
public record AuditEvent(Long id, Instant at, String deviceId, String action, Decision decision, String reason,
                         String detail) {

    public enum Decision {
        ALLOW, DENY, INFO;

        public String dbValue() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Decision fromDb(String v) {
            return valueOf(v.toUpperCase(Locale.ROOT));
        }
    }

    public AuditEvent {
        if (at == null || action == null || action.isBlank() || decision == null || reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("an audit event needs a time, an action, a decision and a reason");
        }
    }

    /** Operator actions: an operator's decision is never routine. */
    private static final java.util.Set<String> OPERATOR_ACTIONS = java.util.Set.of("revoke", "clear", "allow", "policy", "entry",
            "backup", "directive.kept-local");

    /**
     * Whether the row is kept for {@code retention.auditLasting} rather than the routine {@code retention.audit}:
     * revocations and operator actions, failed attestations (each one revokes the device's identity and holds it out
     * until an operator acts), and the enrollment and activation that made a device (once per device: when it
     * joined and by which EK trust). Stale devices, issuances, passes and refusals are routine: they recur, and
     * the device's row keeps its current standing. V3__retention.sql applies the same rule to older rows.
     */
    public boolean lasting() {
        return operatorAction()
                || (decision == Decision.ALLOW && (action.equals("enroll") || action.equals("activate")))
                || (decision == Decision.DENY && action.equals("attest"));
    }

    /** An operator's act at the site (central gets it as an {@code operator} event too). */
    public boolean operatorAction() {
        return OPERATOR_ACTIONS.contains(action);
    }

    public static AuditEvent of(Instant at, String deviceId, String action, Decision decision, String reason, String detail) {
        return new AuditEvent(null, at, deviceId, action, decision, reason, detail);
    }
}
