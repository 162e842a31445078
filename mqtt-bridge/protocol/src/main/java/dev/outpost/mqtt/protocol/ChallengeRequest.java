package dev.outpost.mqtt.protocol;

/**
 * Device → appliance: ask for an attestation challenge (issue 5 fills this in).
 *
 */
public record ChallengeRequest(int v) implements Messages {
}
