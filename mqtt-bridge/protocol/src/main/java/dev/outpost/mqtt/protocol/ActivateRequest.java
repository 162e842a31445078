package dev.outpost.mqtt.protocol;

/**
 * Device → appliance: the secret ActivateCredential released, and the CSR of the node key. They travel together
 * so that only the holder of the TPM can obtain the first SVID: a CSR sent on its own by anyone claiming the
 * device id would otherwise be enough.
 *
 * @param secret base64
 * @param csr    PKCS#10 DER of the node key, base64
 */
public record ActivateRequest(int v, String secret, String csr) implements Messages {
}
