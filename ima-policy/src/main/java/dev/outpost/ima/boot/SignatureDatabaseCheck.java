package dev.outpost.ima.boot;

import static dev.outpost.ima.boot.BootFailureIds.db;

import java.util.List;

import dev.outpost.tpm.eventlog.Event;
import dev.outpost.tpm.eventlog.EventData;

/** PK, KEK and db may hold only what the policy names; dbx must hold at least what it names. */
final class SignatureDatabaseCheck {
    private SignatureDatabaseCheck() {
    }

    static void check(BootPolicy p, CheckContext c) {
        for (String name : BootPolicy.DATABASES) {
            SignatureDatabase rule = p.database(name);
            if (rule != null) {
                check(name, rule, c);
            }
        }
    }

    private static void check(String name, SignatureDatabase rule, CheckContext c) {
        List<Event> found = UefiVariables.find(c, name);
        if (!c.trust.believes(UefiVariables.PCR)) {
            return;
        }
        EventData.EfiVariable v = UefiVariables.single(c, name, found, db(name, BootFailureIds.NOT_MEASURED),
                db(name, BootFailureIds.MEASURED_TWICE), db(name, BootFailureIds.UNDECODABLE));
        if (v == null) {
            return;
        }
        int index = found.get(0).index();
        List<EventData.SignatureEntry> entries = v.signatures();
        if (rule.mode().checksUnexpected()) {
            for (EventData.SignatureEntry e : entries) {
                if (rule.entries().stream().noneMatch(a -> a.matches(e))) {
                    AllowedSignature seen = AllowedSignature.of(e);
                    c.fail(index, db(name, "unexpected_" + seen.noun()), name + " holds " + seen.describe()
                            + ", owner " + e.owner() + ", which the policy does not name");
                }
            }
        }
        if (rule.mode().checksMissing()) {
            for (AllowedSignature a : rule.entries()) {
                if (entries.stream().noneMatch(a::matches)) {
                    c.fail(index, db(name, "missing_" + a.noun()), name + " lacks " + a.describe());
                }
            }
        }
    }
}
