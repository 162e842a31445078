package dev.outpost.mqtt.protocol;

import java.util.List;

/**
 * Appliance → device: the outcome of an attestation.
 *
 * @param state     the device's state now: trusted, failed, pending (no policy assigned yet)
 * @param reasons   why, when not trusted: stable ids with a detail each (e.g. {@code quote.NONCE_MISMATCH: ...})
 * @param nextDueAt epoch milliseconds by which the next attestation must arrive to stay trusted
 * @param svid      a renewed SVID when the old one was due and the device is trusted, else null
 */
public record Verdict(int v, String state, List<String> reasons, long nextDueAt, SvidIssued svid) implements Messages {
}
