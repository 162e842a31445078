package dev.outpost.ima.boot;

import java.util.ArrayList;
import java.util.List;

import dev.outpost.tpm.eventlog.EventType;

/** Every kernel command line in the log must match one allowed regex in full, and there must be one. */
final class CmdlineCheck {
    /** Linux's COMMAND_LINE_SIZE is at most a few KiB; anything longer is not a command line a kernel took. */
    static final int MAX_LINE = 65_536;
    static final long REGEX_BUDGET = 1_000_000;

    private CmdlineCheck() {
    }

    static void check(BootPolicy p, CheckContext c) {
        if (p.kernelCmdlines() == null) {
            return;
        }
        List<KernelCmdlines.Cmdline> lines = new ArrayList<>(KernelCmdlines.grub(
                c.events(KernelCmdlines.GRUB_PCR, EventType.EV_IPL.value(), "kernel command lines")));
        // PCR 12 is optional evidence: on grub systems it is unused, and the OS may extend it later. Use it only
        // when the quote covers it and matches; never fail for its absence.
        if (c.trust.believes(KernelCmdlines.SYSTEMD_PCR)) {
            lines.addAll(KernelCmdlines.systemd(
                    c.events(KernelCmdlines.SYSTEMD_PCR, EventType.EV_IPL.value(), "kernel command lines")));
        }
        if (!c.trust.believes(KernelCmdlines.GRUB_PCR) && lines.isEmpty()) {
            return;
        }
        if (lines.isEmpty() && !p.kernelCmdlines().isEmpty()) {
            c.fail(-1, BootFailureIds.CMDLINE_NOT_MEASURED, "no kernel command line in the log (grub PCR 8"
                    + " kernel_cmdline, systemd PCR 12); the policy expects one");
            return;
        }
        for (KernelCmdlines.Cmdline l : lines) {
            int index = l.event().index();
            if (!EventBinding.bound(l.event(), c.trust.banks(l.event().pcr()), l.measured(), l.event().data())) {
                c.fail(index, BootFailureIds.DATA_MISMATCH, "kernel command line text does not hash to the"
                        + " event's digest");
            } else if (l.line().length() > MAX_LINE
                    || p.kernelCmdlines().stream().noneMatch(r -> r.matches(l.line(), REGEX_BUDGET))) {
                c.fail(index, BootFailureIds.CMDLINE_NOT_ALLOWED, "kernel command line \"" + shorten(l.line())
                        + "\" matches no allowed pattern");
            }
        }
    }

    private static String shorten(String s) {
        return s.length() <= 512 ? s : s.substring(0, 512) + "...";
    }
}
