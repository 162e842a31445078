package dev.outpost.central.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code outpost-central} launcher. */
@Command(name = "outpost-central",
        mixinStandardHelpOptions = true,
        version = "outpost-central 0.1.0",
        description = "Outpost central: the trust domain's CA over site CAs, the site registry, the bundle endpoint.",
        subcommands = {RunCommand.class, SiteCommand.class, CaCommand.class, BundleCommand.class, FederationCommand.class,
                AuditCommand.class, DeviceCommand.class, EventsCommand.class, DirectiveCommands.PolicyCommand.class})
public final class CentralCli {
    /** Largest temporary direct buffer a thread keeps for NIO I/O from heap buffers; see the static block. */
    static final String MAX_CACHED_NIO_BUFFER = "262144";

    static {
        // As in the appliance's entry point (ApplianceCli): the JDK keeps, per thread and for the thread's life, a
        // direct copy buffer the size of the largest heap-buffer I/O it made. H2 writes its chunks that way from
        // whichever worker commits; at 10,000 devices the appliance held 137 MB of them (BENCHMARKS.md, resident
        // memory). Central's H2 default and its ingest of every site's events write the same way. An explicit -D wins.
        if (System.getProperty("jdk.nio.maxCachedBufferSize") == null) {
            System.setProperty("jdk.nio.maxCachedBufferSize", MAX_CACHED_NIO_BUFFER);
        }
    }

    public static void main(String[] args) {
        if (args.length == 0 || !"run".equals(args[0])) {
            System.setProperty("outpost.log.level", "WARN");
        }
        int code;
        try {
            code = commandLine().execute(args);
        } catch (Throwable t) {
            // picocli hands only Exceptions to the handler; an Error still gets one line, not a stack trace.
            System.err.println("error: " + t);
            code = CliSupport.EXIT_UNUSABLE_INPUT;
        }
        System.exit(code);
    }

    /** Built once per call so tests can run commands in-process and read their output. */
    public static CommandLine commandLine() {
        return CliSupport.configure(new CommandLine(new CentralCli()));
    }
}
