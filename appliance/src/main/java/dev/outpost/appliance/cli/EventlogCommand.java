package dev.outpost.appliance.cli;

import picocli.CommandLine.Command;

@Command(name = "eventlog", mixinStandardHelpOptions = true,
        description = "Read TCG PC Client boot event logs.",
        subcommands = {EventlogReplayCommand.class, EventlogShowCommand.class})
final class EventlogCommand {
}
