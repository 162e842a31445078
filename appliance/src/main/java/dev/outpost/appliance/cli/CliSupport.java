package dev.outpost.appliance.cli;

import picocli.CommandLine;

/** Shared CLI behaviour: errors are one clear line on stderr and exit 2, never a stack trace. */
final class CliSupport {
    static final int EXIT_UNUSABLE_INPUT = 2;

    private CliSupport() {
    }

    /** One line to the command's stdout, flushed: output can be read while a long command still runs. */
    static void println(picocli.CommandLine.Model.CommandSpec spec, Object line) {
        spec.commandLine().getOut().println(line);
        spec.commandLine().getOut().flush();
    }

    static void print(picocli.CommandLine.Model.CommandSpec spec, Object text) {
        spec.commandLine().getOut().print(text);
        spec.commandLine().getOut().flush();
    }

    /**
     * Text from the appliance's store can come from devices (reasons name files the device measured): control
     * characters are escaped so they cannot drive the operator's terminal.
     */
    static String printable(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        s.codePoints().forEach(c -> {
            if (Character.isISOControl(c)) {
                sb.append(String.format("\\u%04x", c));
            } else {
                sb.appendCodePoint(c);
            }
        });
        return sb.toString();
    }

    static CommandLine configure(CommandLine cl) {
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("error: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            return EXIT_UNUSABLE_INPUT;
        });
        return cl;
    }
}
