package dev.outpost.appliance.workload;

import java.util.ArrayList;
import java.util.List;

import dev.outpost.appliance.store.DeviceRecord;
import dev.outpost.appliance.store.PolicyStore;

/**
 * A node's selectors, one definition for {@code device show} and for matching registration entries: what enrollment
 * recorded with the device (EK hash, maker, model, node-key kind), its state, the site, its labels, and the policies
 * that apply to it now (so relabelling a device moves it between entries at once).
 */
public final class NodeSelectors {
    private final PolicyStore policies;
    private final String site;

    public NodeSelectors(PolicyStore policies, String site) {
        this.policies = policies;
        this.site = site;
    }

    public List<String> of(DeviceRecord d) {
        List<String> selectors = new ArrayList<>(d.selectors());
        selectors.add("outpost:state:" + d.state().dbValue());
        selectors.add("outpost:site:" + site);
        policies.labels(d.deviceId()).forEach(l -> selectors.add("outpost:label:" + l));
        for (PolicyStore.Kind k : PolicyStore.Kind.values()) {
            policies.resolve(d.deviceId(), k).ifPresent(p -> selectors.add("outpost:policy:" + p));
        }
        return selectors;
    }
}
