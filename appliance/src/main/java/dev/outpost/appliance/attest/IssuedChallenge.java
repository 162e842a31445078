package dev.outpost.appliance.attest;

import java.time.Instant;

import dev.outpost.tpm.wire.PcrSelection;

/**
 * What a device must answer: a quote over {@code pcrs} with {@code nonce}, its IMA entries from {@code imaOffset},
 * and its boot log if {@code wantBootLog}, before {@code expiresAt}, in parts of at most {@code maxChunkBytes}.
 */
public record IssuedChallenge(byte[] nonce, PcrSelection pcrs, long imaOffset, boolean wantBootLog, int maxChunkBytes,
        Instant expiresAt) {
}
