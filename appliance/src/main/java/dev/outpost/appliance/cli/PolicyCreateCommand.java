package dev.outpost.appliance.cli;

import picocli.CommandLine.Command;

@Command(name = "create", mixinStandardHelpOptions = true, description = "Create a policy.",
        subcommands = {CreateRuntimePolicyCommand.class, CreateMeasuredBootPolicyCommand.class})
final class PolicyCreateCommand {
}
