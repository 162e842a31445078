package dev.outpost.appliance.cli;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code outpost-appliance} launcher. */
@Command(name = "outpost-appliance",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Outpost site appliance: local TPM verifier and SPIFFE CA.")
public final class ApplianceCli {
    /**
     * The commands, in the order help lists them. Registered in code, not in the annotation: picocli builds its model
     * of every command it is given (each class loaded, instantiated and introspected), ~0.4 s of CPU for the whole
     * tree, so a run that names a command gets that command's branch only; help and unknown names get them all.
     */
    private static final List<Class<?>> COMMANDS = List.of(RunCommand.class, ResetCommand.class, BackupCommand.class,
            RestoreCommand.class, DeviceCommand.class, AuditCommand.class, CaCommand.class, BundleCommand.class,
            VerifyCommand.class, TpmCommand.class, EventlogCommand.class, PolicyCommand.class, StatusCommand.class,
            EntryCommand.class);

    /** Largest temporary direct buffer a thread keeps for NIO I/O from heap buffers; see the static block. */
    static final String MAX_CACHED_NIO_BUFFER = "262144";

    static {
        // The JDK copies every heap-buffer read or write on a channel through a direct buffer cached per thread, at
        // the size of the largest I/O that thread ever made, for as long as the thread lives (no limit by
        // default). H2 writes its chunks that way from whichever worker commits: at 10,000 devices the appliance
        // held 38 such buffers, 137 MB outside the heap, grown a few MB at a time (BENCHMARKS.md, resident
        // memory). Must be set before java.nio first reads it; an explicit -D wins.
        if (System.getProperty("jdk.nio.maxCachedBufferSize") == null) {
            System.setProperty("jdk.nio.maxCachedBufferSize", MAX_CACHED_NIO_BUFFER);
        }
    }


    /**
     * Offline checks that need none of the other commands: building picocli's model of the whole tree (every command
     * class loaded, instantiated and introspected) was ~0.15 s of every {@code verify ima} run.
     */
    private static final Map<List<String>, Supplier<Object>> STANDALONE = Map.of(
            List.of("verify", "ima"), VerifyImaCommand::new,
            List.of("verify", "boot"), VerifyBootCommand::new,
            List.of("verify", "quote"), VerifyQuoteCommand::new);

    public static void main(String[] args) {
        System.exit(execute(args, cl -> { }));
    }

    /**
     * Runs the command these arguments name: a standalone command alone when they name one, else through the whole
     * tree. {@code io} sets the command line's writers (tests read them).
     */
    static int execute(String[] args, Consumer<CommandLine> io) {
        Supplier<Object> leaf = standalone(args);
        Class<?> named = args.length == 0 ? null : COMMANDS.stream()
                .filter(c -> c.getAnnotation(Command.class).name().equals(args[0])).findFirst().orElse(null);
        CommandLine cl = leaf != null
                ? CliSupport.configure(new CommandLine(leaf.get()).setCommandName("outpost-appliance " + args[0] + " " + args[1]))
                : commandLine(named == null ? COMMANDS : List.of(named));
        io.accept(cl);
        return cl.execute(leaf == null ? args : Arrays.copyOfRange(args, 2, args.length));
    }

    private static Supplier<Object> standalone(String[] args) {
        return args.length < 2 ? null : STANDALONE.get(List.of(args[0], args[1]));
    }

    /** The whole tree; built once per call so tests can run commands in-process and read their output. */
    public static CommandLine commandLine() {
        return commandLine(COMMANDS);
    }

    private static CommandLine commandLine(List<Class<?>> commands) {
        CommandLine cl = new CommandLine(new ApplianceCli());
        commands.forEach(cl::addSubcommand);
        // After the subcommands: the handler is passed on to those already added.
        return CliSupport.configure(cl);
    }
}
