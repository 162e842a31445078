package dev.outpost.mqtt.endpoint;

/**
 * Whether the site already knows a device id (enrolled, allow-listed, or its EK already passed the trust check), so
 * its requests without SVID draw on capacity a flood of unknown ids cannot use up. Called on an event loop for every
 * such request: answer from memory.
 */
@FunctionalInterface
public interface KnownDevices {
    KnownDevices NONE = deviceId -> false;

    boolean known(String deviceId);
}
