package dev.outpost.mqtt.protocol;

/**
 * Appliance → device: the device's record.
 *
 * @param svidExpiresAt epoch milliseconds, 0 when none
 */
public record DeviceStatus(int v, String deviceId, String state, String spiffeId, long svidExpiresAt) implements Messages {
}
