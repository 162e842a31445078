package dev.outpost.mqtt.protocol;

/**
 * Device → appliance: attestation evidence (issue 5 fills this in).
 *
 */
public record EvidenceRequest(int v) implements Messages {
}
