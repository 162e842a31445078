package dev.outpost.mqtt.protocol;

/**
 * Device → appliance, over mTLS with its current SVID: renew it for a (new) node key; only the key is used, the
 * CA decides the identity.
 *
 * @param csr DER, base64
 */
public record CsrRequest(int v, String csr) implements Messages {
}
