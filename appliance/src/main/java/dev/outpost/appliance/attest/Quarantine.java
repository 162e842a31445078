package dev.outpost.appliance.attest;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import dev.outpost.appliance.store.DeviceRecord;
import dev.outpost.appliance.store.DeviceState;
import dev.outpost.appliance.store.DeviceStore;

/**
 * Devices kept out until an operator acts: those that failed attestation (until {@code device clear}) and those
 * revoked. The database is the record; this is its in-memory mirror, because the MQTT endpoint asks at every
 * CONNECT on an event loop, where no JDBC may run. A failed device still holding a valid SVID must not get back in
 * by reconnecting, and a quarantined id costs the appliance no TLS-to-JDBC round trip.
 */
public final class Quarantine {
    private final Set<String> held = ConcurrentHashMap.newKeySet();

    /** The devices the store says are failed or revoked. */
    public static Quarantine load(DeviceStore devices) {
        Quarantine q = new Quarantine();
        for (DeviceRecord d : devices.list()) {
            if (d.state() == DeviceState.FAILED || d.state() == DeviceState.REVOKED) {
                q.held.add(d.deviceId());
            }
        }
        return q;
    }

    public boolean holds(String deviceId) {
        return held.contains(deviceId);
    }

    public void hold(String deviceId) {
        held.add(deviceId);
    }

    /** After an operator's clear: the device may connect and attest from scratch. */
    public void release(String deviceId) {
        held.remove(deviceId);
    }

    public int size() {
        return held.size();
    }
}
