package dev.outpost.ima.replay;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import dev.outpost.ima.list.ImaEntry;
import dev.outpost.ima.list.ImaEntryReader;
import dev.outpost.tpm.HashAlg;

/** Replays a whole list into one bank and checks every template hash: the offline tool's view of a list. */
public final class ListReplayer {
    private static final int MAX_REPORTED = 1000;

    private ListReplayer() {
    }

    /** 32 bytes could be SHA-256 or SM3; both are extended the same way for violations and valid entries. */
    static HashAlg byLength(int len) {
        for (HashAlg a : HashAlg.values()) {
            if (a.digestSize() == len) {
                return a;
            }
        }
        return HashAlg.SHA1;
    }

    /** Replays PCR 10 entries only; IMA extends no other PCR unless its policy says so. */
    public static ReplayResult replay(ImaEntryReader reader, HashAlg bank, HashAlg logHashAlg) throws IOException {
        TemplateHashChecker checker = new TemplateHashChecker(logHashAlg);
        PcrReplay replay = null;
        long n = 0;
        long violations = 0;
        List<Long> bad = new ArrayList<>();
        for (ImaEntry e = reader.next(); e != null; e = reader.next()) {
            n++;
            if (e.isViolation()) {
                violations++;
            } else if (!checker.check(e) && bad.size() < MAX_REPORTED) {
                bad.add(e.index());
            }
            if (replay == null) {
                replay = new PcrReplay(bank, logHashAlg != null ? logHashAlg : byLength(e.templateHash().length));
            }
            if (e.pcr() == 10) {
                replay.extend(e);
            }
        }
        if (replay == null) {
            replay = new PcrReplay(bank, logHashAlg == null ? HashAlg.SHA1 : logHashAlg);
        }
        return new ReplayResult(n, violations, List.copyOf(bad), replay.value(ReplayVariant.NATIVE),
                replay.value(ReplayVariant.SHA1_PADDED));
    }
}
