package dev.outpost.appliance.workload;

import java.time.Clock;
import java.util.List;
import java.util.Optional;

import dev.outpost.appliance.store.AuditEvent;
import dev.outpost.appliance.store.DeviceRecord;
import dev.outpost.appliance.store.DeviceStore;
import dev.outpost.mqtt.protocol.Entries;

/**
 * The operator's side of registration entries ({@code entry create|list|show|delete}): validation, the per-node
 * limit, and an audit record for every change. Blocking (JDBC): call it on a worker.
 */
public final class EntryAdmin {
    private final EntryStore store;
    private final DeviceStore devices;
    private final NodeSelectors nodes;
    private final String trustDomain;
    private final Clock clock;

    public EntryAdmin(EntryStore store, DeviceStore devices, NodeSelectors nodes, String trustDomain, Clock clock) {
        this.store = store;
        this.devices = devices;
        this.nodes = nodes;
        this.trustDomain = trustDomain;
        this.clock = clock;
    }

    /**
     * Checks and stores an entry. Refused (IllegalArgumentException, naming the fault) when a field is invalid, or
     * when a node enrolled now would then match more than {@link Entries#MAX_ENTRIES} entries: its reply could not
     * carry them all.
     */
    public synchronized Entry create(EntryRules.Spec spec) {
        Entry e = EntryRules.check(spec, trustDomain, clock.instant());
        List<Entry> existing = store.list();
        for (DeviceRecord d : devices.list()) {
            List<String> held = nodes.of(d);
            if (!e.matches(held)) {
                continue;
            }
            long count = existing.stream().filter(x -> x.matches(held)).count();
            if (count + 1 > Entries.MAX_ENTRIES) {
                throw new IllegalArgumentException("device " + d.deviceId() + " already matches " + count
                        + " entries, the limit per node is " + Entries.MAX_ENTRIES);
            }
        }
        store.create(e, AuditEvent.of(clock.instant(), null, "entry", AuditEvent.Decision.INFO,
                "entry " + e.id() + " created: " + e.spiffeId() + " for parents " + e.parents() + " and workloads "
                        + e.selectors(), "operator"));
        return e;
    }

    /** Deletes an entry; false when there is none. Agents drop its SVIDs when they next fetch their entries. */
    public boolean delete(String id) {
        Optional<Entry> e = store.find(id);
        if (e.isEmpty()) {
            return false;
        }
        return store.delete(id, AuditEvent.of(clock.instant(), null, "entry", AuditEvent.Decision.INFO,
                "entry " + id + " deleted: " + e.get().spiffeId(), "operator")).isPresent();
    }

    public List<Entry> list() {
        return store.list();
    }

    public Optional<Entry> find(String id) {
        return store.find(id);
    }

    public long revision() {
        return store.revision();
    }
}
