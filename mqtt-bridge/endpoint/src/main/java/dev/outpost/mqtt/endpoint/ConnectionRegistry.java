package dev.outpost.mqtt.endpoint;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** The live connection of each device id: one per device, as brokers keep it. Thread-safe. */
final class ConnectionRegistry {
    private final Map<String, DeviceConnection> byDevice = new ConcurrentHashMap<>();

    DeviceConnection get(String deviceId) {
        return byDevice.get(deviceId);
    }

    /** Registers the connection and returns the one it replaces, which the caller closes. */
    DeviceConnection register(DeviceConnection c) {
        return byDevice.put(c.deviceId(), c);
    }

    /** Removes the connection unless a newer one took its place already. */
    boolean remove(DeviceConnection c) {
        return byDevice.remove(c.deviceId(), c);
    }

    int size() {
        return byDevice.size();
    }

    Set<String> deviceIds() {
        return Set.copyOf(byDevice.keySet());
    }

    Collection<DeviceConnection> all() {
        return List.copyOf(byDevice.values());
    }
}
