package dev.outpost.appliance.attest;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.outpost.appliance.store.DeviceRecord;
import dev.outpost.tpm.keys.QualifiedName;
import dev.outpost.tpm.quote.QuoteExpectation;
import dev.outpost.tpm.wire.PcrSelection;
import dev.outpost.tpm.wire.TpmFormatException;
import dev.outpost.tpm.wire.TpmPublic;

/**
 * Each device's enrolled AK, parsed, with its public key and its qualified name under the EK: what every quote is
 * checked against. Parsing both TPM2B_PUBLIC blobs, hashing the qualified name and building the JCA key was ~2 % of
 * the appliance's CPU per attestation at a site's steady rate, for a result that changes only when the device enrolls
 * again. An entry is used only while the device row still holds the very bytes it was made from (compared in full),
 * so a re-enrollment is never judged against the old AK. Bounded; emptied when full.
 */
final class EnrolledKeys {
    static final int MAX_DEVICES = 50_000;

    private record Entry(byte[] akBlob, byte[] ekBlob, TpmPublic ak, byte[] signerQn) {
        boolean madeFrom(byte[] akPublic, byte[] ekPublic) {
            return (akBlob == akPublic || Arrays.equals(akBlob, akPublic))
                    && (ekBlob == ekPublic || Arrays.equals(ekBlob, ekPublic));
        }
    }

    private final Map<String, Entry> entries = new ConcurrentHashMap<>();

    /** What the quote over {@code nonce} must verify against, for the device as {@code d} says it is enrolled. */
    QuoteExpectation expectation(DeviceRecord d, byte[] nonce, PcrSelection selection) throws TpmFormatException {
        Entry e = entries.get(d.deviceId());
        if (e == null || !e.madeFrom(d.akPublic(), d.ekPublic())) {
            // Copies: the entry must not change if a caller changes the arrays it was made from.
            byte[] akBlob = d.akPublic().clone();
            byte[] ekBlob = d.ekPublic().clone();
            TpmPublic ak = TpmPublic.parseSized(akBlob);
            TpmPublic ek = TpmPublic.parseSized(ekBlob);
            e = new Entry(akBlob, ekBlob, ak, QualifiedName.ofAkUnderEk(ek, ak));
            if (entries.size() >= MAX_DEVICES) {
                entries.clear();
            }
            entries.put(d.deviceId(), e);
        }
        return new QuoteExpectation(e.ak().publicKey(), e.ak(), e.signerQn().clone(), nonce, selection);
    }

    int size() {
        return entries.size();
    }
}
