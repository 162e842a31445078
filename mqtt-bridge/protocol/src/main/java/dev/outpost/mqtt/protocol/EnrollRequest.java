package dev.outpost.mqtt.protocol;

/**
 * Device → appliance: the TPM's endorsement key, its certificate, and the attestation key to bind.
 *
 * @param ekPublic TPM2B_PUBLIC of the EK, base64
 * @param ekCertificate DER, base64, or null when the TPM has none
 * @param akPublic TPM2B_PUBLIC of the AK, base64
 */
public record EnrollRequest(int v, String ekPublic, String ekCertificate, String akPublic) implements Messages {
}
