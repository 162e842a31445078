package dev.outpost.mqtt.protocol;

/** Appliance → device: a non-final evidence part was stored; send the next one. */
public record EvidenceAccepted(int v, int part) implements Messages {
}
