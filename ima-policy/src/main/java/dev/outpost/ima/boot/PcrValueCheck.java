package dev.outpost.ima.boot;

import java.security.MessageDigest;
import java.util.Map;
import java.util.SortedMap;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.eventlog.ReplayResult;
import dev.outpost.tpm.wire.PcrValues;

/** Pinned PCR values: against the quote when there is one, against the log's replay offline. */
final class PcrValueCheck {
    private PcrValueCheck() {
    }

    static void check(BootPolicy p, PcrValues quoted, ReplayResult replay, CheckContext c) {
        for (Map.Entry<HashAlg, SortedMap<Integer, byte[]>> bank : p.pcrs().entrySet()) {
            HashAlg alg = bank.getKey();
            for (Map.Entry<Integer, byte[]> want : bank.getValue().entrySet()) {
                int pcr = want.getKey();
                byte[] got = quoted != null ? quoted.get(alg, pcr).orElse(null) : replay.pcrs(alg).get(pcr);
                if (got == null) {
                    c.fail(-1, BootFailureIds.PCR_MISSING, String.format("the policy pins PCR %s:%d but the %s"
                            + " has no value for it", alg, pcr, quoted != null ? "quote" : "log"));
                } else if (!MessageDigest.isEqual(got, want.getValue())) {
                    c.fail(-1, BootFailureIds.PCR_MISMATCH, String.format("PCR %s:%d is %s, the policy expects %s",
                            alg, pcr, LogTrust.hex(got), LogTrust.hex(want.getValue())));
                }
            }
        }
    }
}
