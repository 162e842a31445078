package dev.outpost.agent.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code outpost-agent} launcher. */
@Command(name = "outpost-agent",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Outpost edge agent: the device side of TPM enrollment and attestation.",
        subcommands = {RunCommand.class, StatusCommand.class, TpmCommand.class})
public final class AgentCli {

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    public static CommandLine commandLine() {
        return CliSupport.configure(new CommandLine(new AgentCli()));
    }
}
