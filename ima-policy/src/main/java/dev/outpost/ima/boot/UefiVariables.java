package dev.outpost.ima.boot;

import java.util.ArrayList;
import java.util.List;

import dev.outpost.tpm.eventlog.Event;
import dev.outpost.tpm.eventlog.EventData;
import dev.outpost.tpm.eventlog.EventType;
import dev.outpost.tpm.eventlog.Guid;

/** The Secure Boot configuration variables as the firmware measures them into PCR 7. */
final class UefiVariables {
    static final int PCR = 7;
    /** EFI_GLOBAL_VARIABLE: SecureBoot, PK, KEK. */
    static final Guid GLOBAL = new Guid("8be4df61-93ca-11d2-aa0d-00e098032b8c");
    /** EFI_IMAGE_SECURITY_DATABASE_GUID: db, dbx. */
    static final Guid IMAGE_SECURITY = new Guid("d719b2cb-3d3a-4596-a3bc-dad00e67656f");

    private UefiVariables() {
    }

    static Guid vendorOf(String name) {
        return name.equals("db") || name.equals("dbx") ? IMAGE_SECURITY : GLOBAL;
    }

    /**
     * EV_EFI_VARIABLE_DRIVER_CONFIG events of PCR 7 for this variable, by name and vendor: a "db" under another
     * vendor GUID is some other variable. Undecodable events are returned too, so the caller can refuse them
     * instead of overlooking a variable it could not read.
     */
    static List<Event> find(CheckContext c, String name) {
        List<Event> out = new ArrayList<>();
        for (Event e : c.events(PCR, EventType.EV_EFI_VARIABLE_DRIVER_CONFIG.value(), name)) {
            if (e.decoded() instanceof EventData.EfiVariable v) {
                if (v.name().equals(name) && v.vendor().equals(vendorOf(name))) {
                    out.add(e);
                }
            } else {
                out.add(e);
            }
        }
        return out;
    }

    /**
     * The one measurement of a variable, checked for decoding and for its data hashing to its digest; null after
     * reporting why not. {@code idPrefix} builds ids like boot.db.not_measured.
     */
    static EventData.EfiVariable single(CheckContext c, String name, List<Event> found, String notMeasured,
                                        String twice, String undecodable) {
        List<Event> named = new ArrayList<>();
        for (Event e : found) {
            if (!(e.decoded() instanceof EventData.EfiVariable)) {
                c.fail(e.index(), undecodable, "PCR 7 variable event cannot be decoded ("
                        + e.decoded().describe() + "); it might be " + name);
                return null;
            }
            named.add(e);
        }
        if (named.isEmpty()) {
            c.fail(-1, notMeasured, name + " is not measured in PCR 7");
            return null;
        }
        if (named.size() > 1) {
            c.fail(named.get(1).index(), twice, name + " is measured " + named.size()
                    + " times; the firmware measures it once, before the separator");
            return null;
        }
        Event e = named.get(0);
        if (!EventBinding.bound(e, c.trust.banks(e.pcr()), e.data())) {
            c.fail(e.index(), BootFailureIds.DATA_MISMATCH, name + ": the variable data does not hash to the"
                    + " event's digest");
            return null;
        }
        return (EventData.EfiVariable) e.decoded();
    }
}
