package dev.outpost.appliance.enroll;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import dev.outpost.appliance.store.AllowListStore;
import dev.outpost.appliance.store.DeviceStore;
import dev.outpost.mqtt.endpoint.KnownDevices;

/**
 * Device ids the site already has reason to expect: enrolled devices (re-enrolling after an outage, say), EK hashes on
 * the allow-list, and EKs that passed the trust check since the last refresh (a manufacturer-CA device between
 * {@code enroll} and {@code activate}). During a flood of unknown EKs these keep enrollment capacity of their own.
 * The endpoint asks on an event loop, so this is an in-memory mirror, refreshed from the store on a timer (allow-list
 * edits take effect within one refresh) and told at once of what the enrollment service decides.
 */
public final class KnownDeviceIds implements KnownDevices {
    private final Supplier<Collection<String>> stored;
    private volatile Set<String> fromStore = Set.of();
    private final Set<String> recent = ConcurrentHashMap.newKeySet();

    public KnownDeviceIds(DeviceStore devices, AllowListStore allowList) {
        this(() -> {
            List<String> ids = new ArrayList<>(devices.ids());
            allowList.list().forEach(e -> ids.add(e.ekHash()));
            return ids;
        });
    }

    /** @param stored the enrolled device ids and allow-listed EK hashes, read from the store; blocking */
    KnownDeviceIds(Supplier<Collection<String>> stored) {
        this.stored = stored;
    }

    /** Reloads from the store; blocking (JDBC). Returns how many ids are known. */
    public int refresh() {
        // Only what was added before the store is read may be dropped afterwards: an id added while it is read
        // (a device enrolling now) may not be in what was read.
        Set<String> before = Set.copyOf(recent);
        Set<String> ids = Set.copyOf(stored.get());
        fromStore = ids;
        // Enrolled ones are in the store now; EKs that passed the check and never activated are forgotten.
        recent.removeAll(before);
        return ids.size();
    }

    /** An EK just passed the trust check or a device just enrolled. */
    void add(String deviceId) {
        recent.add(deviceId);
    }

    @Override
    public boolean known(String deviceId) {
        return fromStore.contains(deviceId) || recent.contains(deviceId);
    }
}
