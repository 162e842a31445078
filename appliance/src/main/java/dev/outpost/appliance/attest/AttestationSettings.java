package dev.outpost.appliance.attest;

import java.time.Duration;

import dev.outpost.tpm.wire.PcrSelection;

/** The appliance's attestation rules, from its configuration. */
public record AttestationSettings(Duration interval, Duration freshness, Duration challengeTtl, PcrSelection pcrs,
        long maxEvidenceBytes, int maxChunkBytes) {
}
