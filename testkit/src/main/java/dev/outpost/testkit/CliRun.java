package dev.outpost.testkit;

import java.io.PrintWriter;
import java.io.StringWriter;

/** What an in-process run of a picocli command printed, and its exit code. */
public record CliRun(int exitCode, String out, String err) {

    /** Runs a command line built by {@code factory} (e.g. {@code ApplianceCli::commandLine}). */
    public static CliRun run(java.util.function.Supplier<picocli.CommandLine> factory, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        picocli.CommandLine cl = factory.get();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new CliRun(code, out.toString(), err.toString());
    }
}
