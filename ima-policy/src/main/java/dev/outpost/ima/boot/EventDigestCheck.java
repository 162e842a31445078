package dev.outpost.ima.boot;

import java.util.ArrayList;
import java.util.List;

import dev.outpost.tpm.eventlog.Event;

/** Applies each {@link EventDigestRule}. */
final class EventDigestCheck {
    private EventDigestCheck() {
    }

    static void check(BootPolicy p, CheckContext c) {
        for (EventDigestRule rule : p.eventDigests()) {
            if (!c.trust.believes(rule.pcr())) {
                c.events(rule.pcr(), -1, rule.describe());
                continue;
            }
            List<Event> selected = new ArrayList<>();
            for (Event e : c.log.events()) {
                if (rule.selects(e)) {
                    selected.add(e);
                }
            }
            if (selected.isEmpty()) {
                c.fail(-1, BootFailureIds.EVENT_NOT_MEASURED, "no event for " + rule.describe());
            }
            for (Event e : selected) {
                if (rule.allowed().stream().noneMatch(a -> a.matches(e, c.trust.banks(e.pcr())))) {
                    c.fail(e.index(), BootFailureIds.EVENT_NOT_ALLOWED, "digest of " + e.typeName() + " "
                            + e.decoded().describe().lines().findFirst().orElse("") + " is not allowed by "
                            + rule.describe());
                }
            }
        }
    }
}
