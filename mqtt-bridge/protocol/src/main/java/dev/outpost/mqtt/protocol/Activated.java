package dev.outpost.mqtt.protocol;

/**
 * Appliance → device: the AK is bound to the device; it may now send its CSR.
 *
 * @param deviceId the enrolled device
 */
public record Activated(int v, String deviceId) implements Messages {
}
