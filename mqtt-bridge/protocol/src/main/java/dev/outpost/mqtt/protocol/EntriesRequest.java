package dev.outpost.mqtt.protocol;

/**
 * Device → appliance, with its node SVID: the registration entries this node may serve to its workloads.
 *
 * @param revision the revision the agent holds (0 when none); the reply always carries the whole current list, so a
 *                 lost reply or a restarted agent converges by asking again
 */
public record EntriesRequest(int v, long revision) implements Messages {
}
