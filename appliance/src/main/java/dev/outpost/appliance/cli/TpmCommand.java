package dev.outpost.appliance.cli;

import picocli.CommandLine.Command;

@Command(name = "tpm", mixinStandardHelpOptions = true,
        description = "Server-side TPM operations (no TPM needed).",
        subcommands = {MakeCredentialCommand.class})
final class TpmCommand {
}
