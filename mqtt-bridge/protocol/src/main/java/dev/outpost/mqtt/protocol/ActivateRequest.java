package dev.outpost.mqtt.protocol;

/**
 * Device → appliance: the secret ActivateCredential released.
 *
 * @param secret base64
 */
public record ActivateRequest(int v, String secret) implements Messages {
}
