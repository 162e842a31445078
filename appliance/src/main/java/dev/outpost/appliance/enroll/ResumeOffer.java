package dev.outpost.appliance.enroll;

import java.time.Instant;

import dev.outpost.tpm.wire.PcrSelection;

/** A nonce for an enrolled device to quote over with its AK, the PCRs to quote, and until when it may. */
public record ResumeOffer(byte[] nonce, PcrSelection pcrs, Instant expiresAt) {
}
