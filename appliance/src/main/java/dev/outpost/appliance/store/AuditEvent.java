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

    public static AuditEvent of(Instant at, String deviceId, String action, Decision decision, String reason, String detail) {
        return new AuditEvent(null, at, deviceId, action, decision, reason, detail);
    }
}
