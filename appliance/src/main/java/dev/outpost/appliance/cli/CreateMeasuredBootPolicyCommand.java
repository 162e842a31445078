package dev.outpost.appliance.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

import dev.outpost.ima.boot.BootPolicy;
import dev.outpost.ima.boot.BootPolicyEvaluator;
import dev.outpost.ima.boot.BootPolicyGenerator;
import dev.outpost.ima.boot.GeneratedPolicy;
import dev.outpost.tpm.eventlog.EventLog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "measured-boot", mixinStandardHelpOptions = true,
        description = "Create a measured-boot policy from a known-good UEFI boot event log.")
final class CreateMeasuredBootPolicyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--eventlog", required = true, description = "binary_bios_measurements (binary or base64)")
    java.nio.file.Path eventlog;

    @Option(names = "--out", required = true, description = "Policy JSON to write")
    java.nio.file.Path out;

    @Option(names = "--without-secureboot", description = "Accept a log without Secure Boot (the policy then does"
            + " not require it); refused otherwise, as Keylime's -i")
    boolean withoutSecureBoot;

    @Option(names = "--pin-pcrs", description = "Also pin the replayed values of PCRs 0-9 (breaks on any firmware"
            + " or boot loader update)")
    boolean pinPcrs;

    @Override
    public Integer call() throws Exception {
        EventLog log = EventLogFiles.load(VerifyBootCommand.existing(eventlog), false);
        GeneratedPolicy g = BootPolicyGenerator.generate(log, pinPcrs);
        BootPolicy p = g.policy();
        if (p.secureBoot() != BootPolicy.SecureBoot.ENABLED && !withoutSecureBoot) {
            throw new IllegalArgumentException(eventlog + ": Secure Boot is not enabled in this log;"
                    + " use --without-secureboot to create a policy that does not require it");
        }
        // A policy its own log fails would be useless and points at a log that contradicts itself.
        var self = BootPolicyEvaluator.evaluate(p, log, null);
        if (!self.passed()) {
            throw new IllegalStateException(eventlog + ": the log fails the policy made from it: "
                    + self.failures().get(0).id() + " " + self.failures().get(0).message());
        }
        BootPolicyFiles.write(p, out);
        PrintWriter err = spec.commandLine().getErr();
        g.warnings().forEach(w -> err.println("warning: " + w));
        err.flush();
        PrintWriter o = spec.commandLine().getOut();
        o.printf("wrote %s: Secure Boot %s, %d boot applications, %d kernel command lines, %d pinned PCRs%n", out,
                p.secureBoot() == BootPolicy.SecureBoot.ENABLED ? "required" : "not required",
                p.applications() == null ? 0 : p.applications().size(),
                p.kernelCmdlines() == null ? 0 : p.kernelCmdlines().size(),
                p.pcrs().values().stream().mapToInt(java.util.Map::size).sum());
        o.flush();
        return 0;
    }
}
