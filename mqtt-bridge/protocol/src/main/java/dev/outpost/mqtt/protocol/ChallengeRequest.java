package dev.outpost.mqtt.protocol;

/**
 * Device → appliance, over mTLS: ask for an attestation challenge. The agent asks on its own schedule (edge
 * devices cannot be polled) and when the appliance sends {@code attest-now} on its command topic.
 */
public record ChallengeRequest(int v) implements Messages {
}
