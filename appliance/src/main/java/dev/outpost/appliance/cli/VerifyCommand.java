package dev.outpost.appliance.cli;

import picocli.CommandLine.Command;

/** Offline checks of evidence: exit 0 valid, 1 invalid (with the reason), 2 unusable input. */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Verify TPM evidence offline.",
        subcommands = {VerifyQuoteCommand.class, VerifyImaCommand.class, VerifyBootCommand.class})
final class VerifyCommand {
}
