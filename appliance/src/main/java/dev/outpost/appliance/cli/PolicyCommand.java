package dev.outpost.appliance.cli;

import picocli.CommandLine.Command;

/** Building and converting Keylime-format runtime policies. */
@Command(name = "policy", mixinStandardHelpOptions = true,
        description = "Create and convert Keylime-format runtime policies.",
        subcommands = {PolicyCreateCommand.class, PolicyConvertCommand.class})
final class PolicyCommand {
}
