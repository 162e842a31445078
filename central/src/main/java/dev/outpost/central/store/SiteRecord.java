package dev.outpost.central.store;

import java.time.Instant;

/** A site in the registry. {@code state}: pending (added, not joined), active, revoked. */
public record SiteRecord(String name, String state, String joinedBy, String ekHash, Instant createdAt, Instant joinedAt,
        Instant revokedAt, String reason) {
    public static final String PENDING = "pending";
    public static final String ACTIVE = "active";
    public static final String REVOKED = "revoked";

    public boolean revoked() {
        return REVOKED.equals(state);
    }
}
