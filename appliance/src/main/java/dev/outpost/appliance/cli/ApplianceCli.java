package dev.outpost.appliance.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code outpost-appliance} launcher. */
@Command(name = "outpost-appliance",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Outpost site appliance: local TPM verifier and SPIFFE CA.",
        subcommands = {RunCommand.class, ResetCommand.class, BackupCommand.class, RestoreCommand.class, DeviceCommand.class, AuditCommand.class, CaCommand.class, BundleCommand.class, VerifyCommand.class, TpmCommand.class, EventlogCommand.class, PolicyCommand.class, StatusCommand.class, EntryCommand.class})
public final class ApplianceCli {

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** Built once per call so tests can run commands in-process and read their output. */
    public static CommandLine commandLine() {
        return CliSupport.configure(new CommandLine(new ApplianceCli()));
    }
}
