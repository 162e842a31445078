package dev.outpost.mqtt.protocol;

/**
 * Device → appliance: what does the appliance think of me?
 *
 */
public record StatusRequest(int v) implements Messages {
}
