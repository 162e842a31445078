package dev.outpost.mqtt.protocol;

/**
 * Appliance → device: a signed JWT-SVID (compact JWS, ES256 by default, {@code kid} in its header naming a key of
 * the site's JWT authorities).
 *
 * @param expiresAt epoch milliseconds, the token's {@code exp}
 */
public record WorkloadJwtIssued(int v, String entryId, String spiffeId, String token, long expiresAt)
        implements Messages {
}
