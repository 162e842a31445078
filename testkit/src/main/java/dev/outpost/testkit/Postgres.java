package dev.outpost.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A real PostgreSQL server for a test, from Debian's package ({@code /usr/lib/postgresql/<ver>/bin}): a fresh
 * cluster in a temporary directory, listening on a free loopback port (and a Unix socket inside that directory),
 * trust authentication for the superuser {@code outpost}, durability off (tests, not data). When the tests run as
 * root the server runs as the {@code postgres} user ({@code runuser}), since PostgreSQL refuses to run as root.
 * Use {@link #binaries()} with an assumption to skip where the package is missing.
 */
public final class Postgres implements AutoCloseable {
    public static final String USER = "outpost";
    private static final AtomicInteger DATABASES = new AtomicInteger();

    private final Path bin;
    private final Path dir;
    private final int port;
    private volatile boolean stopped;

    private Postgres(Path bin, Path dir, int port) {
        this.bin = bin;
        this.dir = dir;
        this.port = port;
    }

    /** The newest installed server's bin directory, if any. */
    public static Optional<Path> binaries() {
        Path root = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        try (Stream<Path> versions = Files.list(root)) {
            return versions.map(v -> v.resolve("bin"))
                    .filter(b -> Files.isExecutable(b.resolve("initdb")) && Files.isExecutable(b.resolve("pg_ctl")))
                    .max(Comparator.comparing(b -> versionOf(b.getParent())));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static int versionOf(Path dir) {
        try {
            return Integer.parseInt(dir.getFileName().toString().replaceAll("[^0-9].*", ""));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    public static Postgres start() {
        Path bin = binaries().orElseThrow(() -> new IllegalStateException("PostgreSQL server is not installed: run scripts/install-deps"));
        try {
            Path dir = Files.createTempDirectory("outpost-pg-");
            boolean root = "root".equals(System.getProperty("user.name"));
            if (root) {
                // The server refuses to run as root; the cluster belongs to the postgres user.
                ProcessRunner.run(List.of("chown", "postgres", dir.toString()), null, Map.of(), 30).assertSuccess();
            }
            Postgres pg = new Postgres(bin, dir, freePort());
            pg.run(List.of(bin.resolve("initdb").toString(), "-D", pg.data().toString(), "-U", USER, "--auth=trust",
                    "--encoding=UTF8", "--no-sync"), 120).assertSuccess();
            pg.startServer();
            Runtime.getRuntime().addShutdownHook(new Thread(pg::close, "postgres-stop"));
            return pg;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void startServer() {
        String opts = "-h 127.0.0.1 -p " + port + " -k " + dir + " -c fsync=off -c synchronous_commit=off"
                + " -c full_page_writes=off -c max_connections=100";
        run(List.of(bin.resolve("pg_ctl").toString(), "-D", data().toString(), "-l", dir.resolve("server.log").toString(),
                "-o", opts, "-w", "-t", "60", "start"), 90).assertSuccess();
    }

    /**
     * Stops the server the hard way ({@code -m immediate}: every connection is cut, like a crash) and starts it again
     * on the same port with the same data: for tests of clients that must recover their connections.
     */
    public synchronized void restart() {
        if (stopped) {
            throw new IllegalStateException("stopped");
        }
        run(List.of(bin.resolve("pg_ctl").toString(), "-D", data().toString(), "-m", "immediate", "-w", "stop"), 60)
                .assertSuccess();
        startServer();
    }

    /** A new, empty database; returns its JDBC URL (user {@value #USER}, no password). */
    public String newDatabase() {
        String name = "t" + ProcessHandle.current().pid() + "_" + DATABASES.incrementAndGet();
        run(List.of(bin.resolve("createdb").toString(), "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", USER, name), 60)
                .assertSuccess();
        return jdbcUrl(name);
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    public int port() {
        return port;
    }

    public String log() {
        try {
            return Files.readString(dir.resolve("server.log"));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private Path data() {
        return dir.resolve("data");
    }

    private ProcessRunner.Result run(List<String> command, long timeoutSeconds) {
        List<String> cmd = new ArrayList<>();
        if ("root".equals(System.getProperty("user.name"))) {
            cmd.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        cmd.addAll(command);
        return ProcessRunner.run(cmd, dir, Map.of("LC_ALL", "C"), timeoutSeconds);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Override
    public synchronized void close() {
        if (stopped) {
            return;
        }
        stopped = true;
        run(List.of(bin.resolve("pg_ctl").toString(), "-D", data().toString(), "-m", "immediate", "-w", "stop"), 60);
        ProcessRunner.run(List.of("rm", "-rf", dir.toString()), null, Map.of(), 60);
    }
}
