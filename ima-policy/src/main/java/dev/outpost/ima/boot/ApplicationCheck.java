package dev.outpost.ima.boot;

import java.util.HexFormat;
import java.util.List;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.eventlog.Event;
import dev.outpost.tpm.eventlog.EventData;
import dev.outpost.tpm.eventlog.EventType;

/** Every EFI application the firmware started (PCR 4) must be one the policy allows. */
final class ApplicationCheck {
    static final int PCR = 4;

    private ApplicationCheck() {
    }

    static List<Event> applications(CheckContext c) {
        return c.events(PCR, EventType.EV_EFI_BOOT_SERVICES_APPLICATION.value(), "boot applications");
    }

    static void check(BootPolicy p, CheckContext c) {
        if (p.applications() == null) {
            return;
        }
        List<Event> apps = applications(c);
        if (!c.trust.believes(PCR)) {
            return;
        }
        if (apps.isEmpty() && !p.applications().isEmpty()) {
            c.fail(-1, BootFailureIds.APPLICATION_NOT_MEASURED, "no EV_EFI_BOOT_SERVICES_APPLICATION in PCR 4;"
                    + " the policy expects boot applications");
            return;
        }
        for (Event e : apps) {
            boolean allowed = p.applications().stream().anyMatch(a -> a.matches(e, c.trust.banks(e.pcr())));
            if (!allowed) {
                c.fail(e.index(), BootFailureIds.APPLICATION_NOT_ALLOWED, "boot application "
                        + describe(e, c) + " is not allowed");
            }
        }
    }

    static String describe(Event e, CheckContext c) {
        StringBuilder sb = new StringBuilder();
        if (e.decoded() instanceof EventData.ImageLoad i && !i.path().isEmpty()) {
            sb.append(i.path()).append(' ');
        }
        for (HashAlg bank : c.trust.banks(e.pcr())) {
            e.digest(bank).ifPresent(d -> sb.append(bank.tpmName()).append(':')
                    .append(HexFormat.of().formatHex(d)).append(' '));
        }
        return sb.toString().trim();
    }
}
