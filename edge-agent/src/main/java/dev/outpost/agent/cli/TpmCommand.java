package dev.outpost.agent.cli;

import picocli.CommandLine.Command;

@Command(name = "tpm", mixinStandardHelpOptions = true,
        description = "Talk to this device's TPM.",
        subcommands = {TpmEkCommand.class, TpmQuoteCommand.class})
final class TpmCommand {
}
