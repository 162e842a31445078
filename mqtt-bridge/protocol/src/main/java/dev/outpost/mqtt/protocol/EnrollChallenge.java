package dev.outpost.mqtt.protocol;

/**
 * Appliance → device: a credential only the TPM holding that EK can open, and only for that AK.
 *
 * @param credentialBlob TPMS_ID_OBJECT (integrityHMAC, encIdentity), base64
 * @param encryptedSecret the seed encrypted to the EK, base64
 * @param expiresAt epoch milliseconds
 */
public record EnrollChallenge(int v, String credentialBlob, String encryptedSecret, long expiresAt) implements Messages {
}
