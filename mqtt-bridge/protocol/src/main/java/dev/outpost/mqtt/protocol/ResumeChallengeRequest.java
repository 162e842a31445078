package dev.outpost.mqtt.protocol;

/**
 * An enrolled device whose SVID expired (an appliance outage longer than its life, say) asks for a nonce to prove
 * with its enrolled AK that it is still the same TPM, instead of enrolling again.
 */
public record ResumeChallengeRequest(int v) implements Messages {
}
