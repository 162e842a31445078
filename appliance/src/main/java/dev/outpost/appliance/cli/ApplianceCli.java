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
        description = "Outpost site appliance: local TPM verifier and SPIFFE CA.",
        subcommands = {RunCommand.class, ResetCommand.class, BackupCommand.class, RestoreCommand.class, DeviceCommand.class, AuditCommand.class, CaCommand.class, BundleCommand.class, VerifyCommand.class, TpmCommand.class, EventlogCommand.class, PolicyCommand.class, StatusCommand.class, EntryCommand.class})
public final class ApplianceCli {
    /**
     * picocli builds its model of every command it is given (each class loaded, instantiated and introspected), ~0.4 s
     * of CPU for the whole tree before any command runs; so main builds only the branch a run names, with the name it
     * has in the tree (help and unknown names get the whole tree). The annotation keeps the whole tree for the man
     * pages and the shell completion, which are made from it.
     */
    private static final List<Class<?>> COMMANDS = List.of(
            ApplianceCli.class.getAnnotation(Command.class).subcommands());

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
                : named != null ? branch(named) : commandLine();
        io.accept(cl);
        return cl.execute(leaf == null ? args : Arrays.copyOfRange(args, 2, args.length));
    }

    private static Supplier<Object> standalone(String[] args) {
        return args.length < 2 ? null : STANDALONE.get(List.of(args[0], args[1]));
    }

    /** The whole tree; built once per call so tests can run commands in-process and read their output. */
    public static CommandLine commandLine() {
        return CliSupport.configure(new CommandLine(new ApplianceCli()));
    }

    /** The root with one command under it: what the tree answers for that command, messages included. */
    private static CommandLine branch(Class<?> command) {
        CommandLine cl = new CommandLine(new Branch());
        cl.addSubcommand(command);
        // After the subcommand: the handler is passed on to those already added.
        return CliSupport.configure(cl);
    }

    /** The root as the annotation above declares it, without its subcommands (main adds the one a run names). */
    @Command(name = "outpost-appliance", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
            description = "Outpost site appliance: local TPM verifier and SPIFFE CA.")
    static final class Branch {
    }
}
