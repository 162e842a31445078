package dev.outpost.appliance.cli;

import picocli.CommandLine.Command;

/** Policies: made and converted offline, stored in and assigned by the running appliance. */
@Command(name = "policy", mixinStandardHelpOptions = true,
        description = "Create, convert, store and assign attestation policies.",
        subcommands = {PolicyCreateCommand.class, PolicyConvertCommand.class, PolicyStoreCommands.Add.class,
            PolicyStoreCommands.ListPolicies.class, PolicyStoreCommands.Show.class, PolicyStoreCommands.Assign.class})
final class PolicyCommand {
}
