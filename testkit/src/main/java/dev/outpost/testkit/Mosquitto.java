package dev.outpost.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real Mosquitto 2 running the shipped external-broker configuration ({@code packaging/mosquitto}), so a
 * test against it proves the files operators install, not a lookalike. Only what cannot work in a test is
 * changed: file paths point into the test's directory, the two listeners move to free ports on 127.0.0.1,
 * syslog output is dropped and the process keeps the current user. Every substitution must find its line
 * in the shipped file, so a drift in the shipped config fails the harness instead of being papered over.
 */
public final class Mosquitto implements AutoCloseable {
    /** Where {@code outpost.conf} puts the files an operator installs. */
    public static final String SHIPPED_DIR = "/etc/outpost/mosquitto";
    public static final int SHIPPED_MTLS_PORT = 8883;
    public static final int SHIPPED_ENROLL_PORT = 8884;

    private static final String LIVE_LOG = "broker.log";
    private static final String STDOUT_LOG = "mosquitto.out";

    private final Path dir;
    private int mtlsPort;
    private int enrollPort;
    private Process process;

    private Mosquitto(Path dir) {
        this.dir = dir;
    }

    /**
     * Starts Mosquitto with the shipped config in {@code dir}.
     *
     * @param siteBundle the site CA bundle (PEM) that client certificates on the mTLS listener must chain to
     * @param serverCert the broker's certificate chain (PEM), served on both listeners
     * @param serverKey  its private key (PEM)
     */
    public static Mosquitto start(Path dir, Path siteBundle, Path serverCert, Path serverKey) {
        Mosquitto m = new Mosquitto(dir);
        try {
            Files.createDirectories(dir);
            Files.copy(siteBundle, dir.resolve("site-bundle.pem"), StandardCopyOption.REPLACE_EXISTING);
            Files.copy(serverCert, dir.resolve("server.pem"), StandardCopyOption.REPLACE_EXISTING);
            Files.copy(serverKey, dir.resolve("server.key"), StandardCopyOption.REPLACE_EXISTING);
            for (String acl : List.of("outpost.acl", "outpost-enroll.acl")) {
                Files.copy(shippedDir().resolve(acl), dir.resolve(acl), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        m.launch();
        return m;
    }

    /** The shipped files: from the build's {@code outpost.root}, else the nearest ancestor holding them. */
    public static Path shippedDir() {
        String root = System.getProperty("outpost.root");
        if (root != null && Files.isDirectory(Path.of(root, "packaging", "mosquitto"))) {
            return Path.of(root, "packaging", "mosquitto");
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("packaging/mosquitto/outpost.conf"))) {
                return p.resolve("packaging/mosquitto");
            }
        }
        throw new IllegalStateException("packaging/mosquitto not found: set -Doutpost.root");
    }

    /** The shipped {@code outpost.conf} adapted to this test: same options, local paths and ports. */
    static String adapt(String shipped, Path dir, int mtlsPort, int enrollPort, String user) {
        String conf = replaceLine(shipped, "listener " + SHIPPED_MTLS_PORT, "listener " + mtlsPort + " 127.0.0.1");
        conf = replaceLine(conf, "listener " + SHIPPED_ENROLL_PORT, "listener " + enrollPort + " 127.0.0.1");
        // The test host may have no syslog daemon, and a test broker must not write into the host's logs.
        // A log file instead: Mosquitto flushes it per line, while its redirected stdout is block-buffered
        // and would hide the lines a failing test needs until the broker exits.
        conf = replaceLine(conf, "log_dest syslog", "log_dest file " + dir.toAbsolutePath().resolve(LIVE_LOG));
        if (!conf.contains(SHIPPED_DIR + "/")) {
            throw new IllegalStateException("shipped outpost.conf no longer uses " + SHIPPED_DIR);
        }
        conf = conf.replace(SHIPPED_DIR + "/", dir.toAbsolutePath() + "/");
        // Started as root, Mosquitto drops to the "mosquitto" user, which could not read the test's files
        // (or may not exist in a container); naming the current user keeps it as it is.
        return conf + "\n# test harness only\nuser " + user + "\n";
    }

    private static String replaceLine(String text, String line, String replacement) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(line) + "[ \\t]*$").matcher(text);
        if (!m.find()) {
            throw new IllegalStateException("shipped outpost.conf has no line '" + line + "'");
        }
        return m.replaceAll(Matcher.quoteReplacement(replacement));
    }

    private void launch() {
        String shipped;
        try {
            shipped = Files.readString(shippedDir().resolve("outpost.conf"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (int attempt = 0; ; attempt++) {
            // Another process may take a probed port before Mosquitto binds it; a fresh pair then fixes it.
            mtlsPort = freePort();
            enrollPort = freePort();
            if (mtlsPort == enrollPort) {
                continue;
            }
            Path conf = configFile();
            try {
                Files.writeString(conf, adapt(shipped, dir, mtlsPort, enrollPort, System.getProperty("user.name")));
                process = new ProcessBuilder(Tools.require("mosquitto").toString(), "-c", conf.toString())
                        .directory(dir.toFile())
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile()))
                        .start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (awaitReady()) {
                return;
            }
            stop();
            if (attempt >= 3) {
                throw new IllegalStateException("mosquitto did not start:\n" + log());
            }
        }
    }

    private boolean awaitReady() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline && process.isAlive()) {
            if (listens(mtlsPort) && listens(enrollPort)) {
                return true;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }

    // The listener socket exists only once the config, keys and ACLs have loaded. It must be this broker's: a
    // probed-free port may have gone to another process (LoopbackListeners). Without /proc, a TCP connect; the
    // broker logs the aborted TLS handshake, which is harmless.
    private boolean listens(int port) {
        if (LoopbackListeners.available()) {
            return LoopbackListeners.heldBy(process.pid(), port);
        }
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The mTLS listener (shipped 8883): node SVIDs and the appliance. */
    public int mtlsPort() {
        return mtlsPort;
    }

    /** The enrollment listener (shipped 8884): no client certificate. */
    public int enrollPort() {
        return enrollPort;
    }

    public String mtlsUri() {
        return "ssl://127.0.0.1:" + mtlsPort;
    }

    public String enrollUri() {
        return "ssl://127.0.0.1:" + enrollPort;
    }

    public Path configFile() {
        return dir.resolve("mosquitto.conf");
    }

    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    private Path logFile() {
        return dir.resolve(STDOUT_LOG);
    }

    /** Where the broker's log ends now: pass it to {@link #awaitLog} to look only at what comes after. */
    public int logMark() {
        try {
            Path live = dir.resolve(LIVE_LOG);
            return Files.exists(live) ? Files.readString(live).length() : 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Waits until the broker's log, from {@code mark} on, contains {@code text} (e.g. why it refused a
     * handshake), at most {@code timeout}; returns whether it appeared. The mark keeps one test from being
     * satisfied by another's lines on a shared broker.
     */
    public boolean awaitLog(int mark, String text, java.time.Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Path live = dir.resolve(LIVE_LOG);
        do {
            try {
                String log = Files.exists(live) ? Files.readString(live) : "";
                if (log.length() > mark && log.substring(mark).contains(text)) {
                    return true;
                }
                Thread.sleep(20);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        } while (System.nanoTime() < deadline);
        return false;
    }

    /**
     * The generated config and the broker's log so far, for a failed test's report; once the process has
     * ended, also its stdout, which holds what it printed before its log file was open (e.g. a bad key).
     */
    public String log() {
        List<String> parts = new ArrayList<>();
        List<Path> files = new ArrayList<>(List.of(configFile(), dir.resolve(LIVE_LOG)));
        if (!isAlive()) {
            files.add(logFile());
        }
        for (Path p : files) {
            try {
                parts.add("== " + p.getFileName() + "\n" + (Files.exists(p) ? Files.readString(p) : "(none)"));
            } catch (IOException e) {
                parts.add("== " + p.getFileName() + ": " + e);
            }
        }
        return String.join("\n", parts);
    }

    private void stop() {
        ProcessRunner.terminate(process);
    }

    /** Stops the broker as an outage would; {@link #restart()} brings it back on the same ports. */
    public void kill() {
        stop();
    }

    /** Starts the broker again with the same configuration and ports (clients reconnect to what they knew). */
    public void restart() {
        try {
            process = new ProcessBuilder(Tools.require("mosquitto").toString(), "-c", configFile().toString())
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (!awaitReady()) {
            stop();
            throw new IllegalStateException("mosquitto did not start again on ports " + mtlsPort + "/" + enrollPort
                    + ":\n" + log());
        }
    }

    @Override
    public void close() {
        stop();
    }
}
