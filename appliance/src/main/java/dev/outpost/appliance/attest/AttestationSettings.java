package dev.outpost.appliance.attest;

import java.time.Duration;

import dev.outpost.ima.verify.ViolationHandling;
import dev.outpost.tpm.wire.PcrSelection;

/**
 * The appliance's attestation rules, from its configuration.
 *
 * @param maxEvidenceBytes         log bytes one device's attestation may buffer
 * @param maxBufferedEvidenceBytes log bytes all devices' attestations may buffer together; past it devices are told
 *                                 to retry later
 * @param violations               what an IMA violation the quote covers does: counted (Keylime's default) or a failure
 */
public record AttestationSettings(Duration interval, Duration freshness, Duration challengeTtl, PcrSelection pcrs,
        long maxEvidenceBytes, int maxChunkBytes, long maxBufferedEvidenceBytes, ViolationHandling violations) {
}
