package dev.outpost.agent.workload;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import dev.outpost.mqtt.protocol.Entries;
import dev.outpost.mqtt.protocol.WorkloadEntry;

/**
 * The registration entries the appliance gave this node, and which of them a workload matches (all of an entry's
 * selectors held by the caller). Entries arrive from the appliance, which is trusted for them, but they are still
 * bounded and checked for shape: a malformed entry is dropped, not half-applied.
 */
final class EntryBook {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(EntryBook.class);
    private final String trustDomain;
    private volatile long revision = -1;
    private volatile List<WorkloadEntry> entries = List.of();

    EntryBook(String trustDomain) {
        this.trustDomain = trustDomain;
    }

    long revision() {
        return revision;
    }

    List<WorkloadEntry> all() {
        return entries;
    }

    /** @return the entries that were dropped or changed (their SVIDs must go) */
    synchronized List<WorkloadEntry> replace(Entries e) {
        List<WorkloadEntry> fresh = new ArrayList<>();
        for (WorkloadEntry w : e.entries() == null ? List.<WorkloadEntry>of() : e.entries()) {
            if (fresh.size() >= Entries.MAX_ENTRIES) {
                LOG.warn("the appliance sent more than {} entries; the rest are ignored", Entries.MAX_ENTRIES);
                break;
            }
            if (wellFormed(w)) {
                fresh.add(w);
            } else {
                LOG.warn("workload entry {} dropped: malformed (SPIFFE ID outside {}, no selectors, or over a limit)",
                        w == null ? null : w.id(), trustDomain);
            }
        }
        List<WorkloadEntry> gone = new ArrayList<>();
        for (WorkloadEntry old : entries) {
            if (!fresh.contains(old)) {
                gone.add(old);
            }
        }
        entries = List.copyOf(fresh);
        revision = e.revision();
        return gone;
    }

    List<WorkloadEntry> matching(Set<String> selectors) {
        List<WorkloadEntry> out = new ArrayList<>();
        for (WorkloadEntry e : entries) {
            if (selectors.containsAll(e.selectors())) {
                out.add(e);
            }
        }
        return out;
    }

    boolean anyNeeds(String selector) {
        for (WorkloadEntry e : entries) {
            if (e.selectors().contains(selector)) {
                return true;
            }
        }
        return false;
    }

    WorkloadEntry byId(String id) {
        for (WorkloadEntry e : entries) {
            if (e.id().equals(id)) {
                return e;
            }
        }
        return null;
    }

    private boolean wellFormed(WorkloadEntry w) {
        return w != null && w.id() != null && !w.id().isBlank() && w.id().length() <= 64
                && w.spiffeId() != null && w.spiffeId().startsWith("spiffe://" + trustDomain + "/")
                && w.selectors() != null && !w.selectors().isEmpty() && w.selectors().size() <= WorkloadEntry.MAX_SELECTORS
                && w.selectors().stream().allMatch(s -> s != null && !s.isBlank())
                && (w.dnsNames() == null || w.dnsNames().size() <= WorkloadEntry.MAX_DNS_NAMES)
                && (w.federatesWith() == null || w.federatesWith().size() <= WorkloadEntry.MAX_FEDERATES_WITH);
    }
}
