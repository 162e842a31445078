package dev.outpost.mqtt.protocol;

import java.util.List;

/**
 * Appliance → device: every registration entry for this node, and the revision of the appliance's entry set
 * (it moves on every create or delete, for any node; the verdict carries it too so the agent knows when to ask).
 */
public record Entries(int v, long revision, List<WorkloadEntry> entries) implements Messages {
    /** What one reply carries; an appliance refuses to create more entries for one node than this. */
    public static final int MAX_ENTRIES = 128;
}
