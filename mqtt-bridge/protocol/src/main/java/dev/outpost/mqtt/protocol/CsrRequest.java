package dev.outpost.mqtt.protocol;

/**
 * Device → appliance: a PKCS#10 request for the node key; only the key is used, the CA decides the identity.
 *
 * @param csr DER, base64
 */
public record CsrRequest(int v, String csr) implements Messages {
}
