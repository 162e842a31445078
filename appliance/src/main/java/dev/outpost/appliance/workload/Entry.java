package dev.outpost.appliance.workload;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import dev.outpost.mqtt.protocol.WorkloadEntry;

/**
 * A registration entry as the appliance keeps it: the node half ({@code parents}, checked here and never sent to
 * devices) and the workload half (what the agent matches its callers against). Built only through
 * {@link EntryRules#check}, so a stored entry is always a valid one.
 *
 * @param parents node selectors, all of which the node must hold
 * @param selectors workload selectors, all of which the calling process must hold
 */
public record Entry(String id, String spiffeId, List<String> parents, List<String> selectors, Duration x509Ttl,
        Duration jwtTtl, List<String> federatesWith, List<String> dnsNames, Instant createdAt) {

    public Entry {
        parents = List.copyOf(parents);
        selectors = List.copyOf(selectors);
        federatesWith = List.copyOf(federatesWith);
        dnsNames = List.copyOf(dnsNames);
    }

    /** Whether a node holding {@code nodeSelectors} may serve this entry: it holds every parent selector. */
    public boolean matches(java.util.Collection<String> nodeSelectors) {
        return nodeSelectors.containsAll(parents);
    }

    /** Whether the workload must be an IMA-verified binary (the appliance then checks the device's policy). */
    public boolean needsIma() {
        return selectors.contains(EntryRules.IMA_VERIFIED);
    }

    /** What the agent gets: the workload half. */
    public WorkloadEntry toWire() {
        return new WorkloadEntry(id, spiffeId, selectors, x509Ttl.toSeconds(), jwtTtl.toSeconds(), federatesWith,
                dnsNames);
    }
}
