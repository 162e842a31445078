package dev.outpost.mqtt.protocol;

import static com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;

/**
 * Appliance → device: the outcome of an attestation.
 *
 * @param state     the device's state now: trusted, failed, pending (no policy assigned yet)
 * @param reasons   why, when not trusted: stable ids with a detail each (e.g. {@code quote.NONCE_MISMATCH: ...})
 * @param nextDueAt epoch milliseconds by which the next attestation must arrive to stay trusted
 * @param svid      a renewed SVID when the old one was due and the device is trusted, else null
 * @param entriesRevision the appliance's registration entry revision: an agent holding another one asks for its
 *                  entries again (absent from appliances that predate workload entries)
 */
public record Verdict(int v, String state, List<String> reasons, long nextDueAt, SvidIssued svid,
        @OptionalField @JsonInclude(NON_NULL) Long entriesRevision) implements Messages {

    public Verdict(int v, String state, List<String> reasons, long nextDueAt, SvidIssued svid) {
        this(v, state, reasons, nextDueAt, svid, null);
    }
}
