package dev.outpost.central.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import picocli.CommandLine;

/** The appliance CLI's rules: 0 on success; any error is one line on stderr and exit 2, never a stack trace. */
final class CliSupport {
    static final int EXIT_UNUSABLE_INPUT = 2;
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .registerModule(new com.fasterxml.jackson.databind.module.SimpleModule()
                    .addSerializer(java.time.Instant.class, new com.fasterxml.jackson.databind.ser.std.ToStringSerializer()));

    private CliSupport() {
    }

    static CommandLine configure(CommandLine cl) {
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("error: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            cmd.getErr().flush();
            return EXIT_UNUSABLE_INPUT;
        });
        return cl;
    }

    static void println(CommandLine.Model.CommandSpec spec, Object line) {
        spec.commandLine().getOut().println(line);
        spec.commandLine().getOut().flush();
    }

    static void json(CommandLine.Model.CommandSpec spec, Object value) throws Exception {
        println(spec, JSON.writeValueAsString(value));
    }

    /** Registry text can come from operators or peers: control characters are escaped before they reach a terminal. */
    static String printable(Object o) {
        if (o == null) {
            return "-";
        }
        StringBuilder sb = new StringBuilder();
        o.toString().codePoints().forEach(c -> {
            if (Character.isISOControl(c)) {
                sb.append(String.format("\\u%04x", c));
            } else {
                sb.appendCodePoint(c);
            }
        });
        return sb.toString();
    }
}
