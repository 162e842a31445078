package dev.outpost.appliance.enroll;

import java.time.Instant;

/** The credential only the TPM holding the enrolled EK can open (MakeCredential), to be answered before expiry. */
public record CredentialOffer(byte[] idObject, byte[] encryptedSecret, Instant expiresAt) {
}
