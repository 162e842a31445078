package dev.outpost.appliance.attest;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.outpost.ima.boot.BootFailure;
import dev.outpost.ima.boot.BootPolicy;
import dev.outpost.ima.boot.BootPolicyEvaluator;
import dev.outpost.ima.boot.BootPolicyResult;
import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.eventlog.EventLog;
import dev.outpost.tpm.eventlog.EventLogException;
import dev.outpost.tpm.eventlog.PcrReplay;
import dev.outpost.tpm.eventlog.ReplayResult;
import dev.outpost.tpm.wire.PcrValues;

/**
 * The boot log part of an attestation. It is required whenever the challenge asked for it. With a measured-boot
 * policy, its evaluator decides (it replays first); without one, the log must at least replay to every quoted PCR
 * 0-9, or nothing it says can be believed later.
 */
final class BootCheck {
    private BootCheck() {
    }

    static List<String> check(byte[] log, PcrValues quoted, BootPolicy policy) {
        List<String> out = new ArrayList<>();
        if (log.length == 0) {
            // Asked for and withheld: without the log nothing vouches for the quoted PCRs 0-9, policy or not.
            out.add("boot.log.missing: the boot event log was asked for and not sent");
            return out;
        }
        EventLog parsed;
        try {
            parsed = EventLog.parse(log);
        } catch (EventLogException e) {
            out.add("boot.log.malformed: " + e.getMessage());
            return out;
        }
        if (policy != null) {
            BootPolicyResult r = BootPolicyEvaluator.evaluate(policy, parsed, quoted);
            for (BootFailure f : r.failures()) {
                out.add(f.id() + ": " + f.message() + (f.eventIndex() >= 0 ? " (event " + f.eventIndex() + ")" : ""));
            }
            return out;
        }
        ReplayResult replay = PcrReplay.replay(parsed);
        for (HashAlg bank : quoted.banks()) {
            for (Map.Entry<Integer, byte[]> e : quoted.bank(bank).entrySet()) {
                int pcr = e.getKey();
                if (pcr > 9) {
                    continue;
                }
                byte[] replayed = replay.pcrs(bank).getOrDefault(pcr, new byte[bank.digestSize()]);
                if (!java.util.Arrays.equals(replayed, e.getValue())) {
                    out.add("boot.log.replay_mismatch: the log does not replay to the quoted " + bank + " PCR " + pcr);
                }
            }
        }
        return out;
    }
}
