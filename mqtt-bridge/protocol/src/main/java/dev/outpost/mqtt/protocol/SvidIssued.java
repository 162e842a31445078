package dev.outpost.mqtt.protocol;

/**
 * Appliance → device: the node X509-SVID, its chain and the site's trust bundle.
 *
 * @param svidPem leaf then intermediates
 * @param bundlePem the trust anchors
 * @param expiresAt epoch milliseconds
 */
public record SvidIssued(int v, String spiffeId, String svidPem, String bundlePem, long expiresAt) implements Messages {
}
