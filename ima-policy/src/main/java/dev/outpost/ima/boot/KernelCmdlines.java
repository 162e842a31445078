package dev.outpost.ima.boot;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import dev.outpost.tpm.eventlog.Event;
import dev.outpost.tpm.eventlog.EventData;
import dev.outpost.tpm.eventlog.EventType;

/**
 * Kernel command lines in a log: grub's EV_IPL strings in PCR 8 ("kernel_cmdline: ..." upstream,
 * "grub_kernel_cmdline ..." in Red Hat's grub) and systemd-boot/systemd-stub's EV_IPL in PCR 12, whose whole
 * text is the command line.
 */
final class KernelCmdlines {
    static final int GRUB_PCR = 8;
    static final int SYSTEMD_PCR = 12;
    private static final String[] GRUB_PREFIXES = {"kernel_cmdline: ", "grub_kernel_cmdline "};

    /** One command line and the event that carried it. */
    record Cmdline(Event event, String line, byte[] measured) {
    }

    private KernelCmdlines() {
    }

    /** Command lines from the PCR 8 events the caller passes (already filtered by PCR and type). */
    static List<Cmdline> grub(List<Event> pcr8Ipl) {
        List<Cmdline> out = new ArrayList<>();
        for (Event e : pcr8Ipl) {
            if (e.decoded() instanceof EventData.Text t) {
                for (String prefix : GRUB_PREFIXES) {
                    if (t.text().startsWith(prefix)) {
                        String line = t.text().substring(prefix.length());
                        // grub hashes the command line without its description prefix and NUL.
                        out.add(new Cmdline(e, line, line.getBytes(StandardCharsets.UTF_8)));
                        break;
                    }
                }
            }
        }
        return out;
    }

    /** systemd measures the UTF-16 buffer it logs, so the event data itself is what was hashed. */
    static List<Cmdline> systemd(List<Event> pcr12Ipl) {
        List<Cmdline> out = new ArrayList<>();
        for (Event e : pcr12Ipl) {
            if (e.decoded() instanceof EventData.Text t) {
                out.add(new Cmdline(e, t.text(), e.data()));
            }
        }
        return out;
    }

    /** Every command line of a log, believed or not, for the generator. */
    static List<Cmdline> all(dev.outpost.tpm.eventlog.EventLog log) {
        List<Event> p8 = new ArrayList<>();
        List<Event> p12 = new ArrayList<>();
        for (Event e : log.events()) {
            if (e.rawType() == EventType.EV_IPL.value()) {
                if (e.pcr() == GRUB_PCR) {
                    p8.add(e);
                } else if (e.pcr() == SYSTEMD_PCR) {
                    p12.add(e);
                }
            }
        }
        List<Cmdline> out = new ArrayList<>(grub(p8));
        out.addAll(systemd(p12));
        return out;
    }
}
