package dev.outpost.ima.boot;

import java.util.HexFormat;

import dev.outpost.tpm.eventlog.EventData;

/** The SecureBoot variable must be measured once with the value 1 when the policy requires Secure Boot. */
final class SecureBootCheck {
    private SecureBootCheck() {
    }

    static void check(BootPolicy p, CheckContext c) {
        if (p.secureBoot() == BootPolicy.SecureBoot.ANY) {
            return;
        }
        var found = UefiVariables.find(c, "SecureBoot");
        if (!c.trust.believes(UefiVariables.PCR)) {
            return;
        }
        EventData.EfiVariable v = UefiVariables.single(c, "SecureBoot", found,
                BootFailureIds.SECUREBOOT_NOT_MEASURED, BootFailureIds.SECUREBOOT_MEASURED_TWICE,
                BootFailureIds.db("SecureBoot", BootFailureIds.UNDECODABLE));
        if (v == null) {
            return;
        }
        byte[] value = v.value();
        if (value.length != 1 || value[0] != 1) {
            c.fail(found.get(0).index(), BootFailureIds.SECUREBOOT_DISABLED, "SecureBoot is "
                    + (value.length == 0 ? "empty" : HexFormat.of().formatHex(value)) + ", the policy requires 01");
        }
    }

    /** Whether a log says Secure Boot was on, for the generator. */
    static boolean enabledIn(dev.outpost.tpm.eventlog.EventLog log) {
        int count = 0;
        boolean on = false;
        for (var e : log.events()) {
            if (e.pcr() == UefiVariables.PCR && e.decoded() instanceof EventData.EfiVariable v
                    && v.name().equals("SecureBoot") && v.vendor().equals(UefiVariables.GLOBAL)
                    && e.rawType() == dev.outpost.tpm.eventlog.EventType.EV_EFI_VARIABLE_DRIVER_CONFIG.value()) {
                count++;
                byte[] value = v.value();
                on = value.length == 1 && value[0] == 1;
            }
        }
        return count == 1 && on;
    }
}
