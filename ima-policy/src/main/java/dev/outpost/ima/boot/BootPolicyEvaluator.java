package dev.outpost.ima.boot;

import java.util.ArrayList;
import java.util.List;

import dev.outpost.tpm.eventlog.EventLog;
import dev.outpost.tpm.eventlog.PcrReplay;
import dev.outpost.tpm.eventlog.ReplayResult;
import dev.outpost.tpm.wire.PcrValues;

/**
 * Checks a boot event log against a measured-boot policy. Stateless and thread-safe; pure computation over the
 * parsed log (one replay, one pass per check). Parsing a log of up to 16 MiB is not small: on Vert.x, parse and
 * evaluate on a worker, after the quote is verified.
 */
public final class BootPolicyEvaluator {
    private BootPolicyEvaluator() {
    }

    /**
     * @param quotedPcrs PCR values from a quote whose signature and nonce were already verified; null for an
     *     offline check of the log's content alone
     */
    public static BootPolicyResult evaluate(BootPolicy policy, EventLog log, PcrValues quotedPcrs) {
        List<BootFailure> failures = new ArrayList<>();
        ReplayResult replay = PcrReplay.replay(log);
        LogTrust trust = quotedPcrs == null ? LogTrust.offline(replay)
                : LogTrust.check(replay, quotedPcrs, failures);
        if (!failures.isEmpty()) {
            // A log that does not replay to the quote is not this machine's log: judging its content would only
            // produce misleading reasons.
            return new BootPolicyResult(false, log.events().size(), true, failures);
        }
        CheckContext c = new CheckContext(log, trust, failures);
        SecureBootCheck.check(policy, c);
        SignatureDatabaseCheck.check(policy, c);
        ApplicationCheck.check(policy, c);
        CmdlineCheck.check(policy, c);
        EventDigestCheck.check(policy, c);
        PcrValueCheck.check(policy, quotedPcrs, replay, c);
        return new BootPolicyResult(failures.isEmpty(), log.events().size(), quotedPcrs != null, failures);
    }
}
