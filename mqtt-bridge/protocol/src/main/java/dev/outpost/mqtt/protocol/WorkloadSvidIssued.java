package dev.outpost.mqtt.protocol;

/**
 * Appliance → device: a workload's X509-SVID.
 *
 * @param svidPem   leaf then intermediates (the site CA, and above it when nested)
 * @param expiresAt epoch milliseconds: the least of the entry's TTL, the node's identity limit (its last pass plus
 *                  {@code ca.svidTtl}) and the CA's own end
 */
public record WorkloadSvidIssued(int v, String entryId, String spiffeId, String svidPem, long expiresAt)
        implements Messages {
}
