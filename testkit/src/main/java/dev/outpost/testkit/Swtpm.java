package dev.outpost.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real, private software TPM: its own state directory, manufactured by swtpm_setup with RSA and ECC EK
 * certificates from this JVM's {@link LocalEkCa}, on a free loopback port (or a Unix socket), killed on close.
 */
public final class Swtpm implements AutoCloseable {
    /** How the TPM command channel is exposed. */
    public enum Channel { TCP, UNIX }

    private final Path dir;
    private final Path stateDir;
    private final Channel channel;
    private int port;
    private Process process;

    private Swtpm(Path dir, Channel channel) {
        this.dir = dir;
        this.stateDir = dir.resolve("state");
        this.channel = channel;
    }

    /** Manufactures a new TPM in {@code dir} and starts it. */
    public static Swtpm start(Path dir, Channel channel) {
        Swtpm tpm = new Swtpm(dir, channel);
        tpm.manufacture();
        tpm.launch();
        return tpm;
    }

    public static Swtpm start(Path dir) {
        return start(dir, Channel.TCP);
    }

    private void manufacture() {
        try {
            Files.createDirectories(stateDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ProcessRunner.run(List.of(Tools.require("swtpm_setup").toString(),
                        "--tpm2", "--tpmstate", stateDir.toString(),
                        "--create-ek-cert", "--create-platform-cert",
                        "--config", LocalEkCa.get().setupConfig().toString(),
                        "--logfile", dir.resolve("swtpm_setup.log").toString(),
                        "--overwrite"),
                dir, Map.of(), 120).assertSuccess();
    }

    private void launch() {
        List<String> cmd = new ArrayList<>(List.of(Tools.require("swtpm").toString(), "socket", "--tpm2",
                "--tpmstate", "dir=" + stateDir,
                "--flags", "not-need-init,startup-clear",
                "--log", "file=" + logFile() + ",level=2"));
        for (int attempt = 0; ; attempt++) {
            List<String> full = new ArrayList<>(cmd);
            if (channel == Channel.TCP) {
                if (port == 0 || attempt > 0) {
                    port = freePort();
                }
                // tpm2-tools' swtpm TCTI expects the control channel on the next port.
                full.addAll(List.of("--server", "type=tcp,port=" + port + ",bindaddr=127.0.0.1",
                        "--ctrl", "type=tcp,port=" + (port + 1) + ",bindaddr=127.0.0.1"));
            } else {
                full.addAll(List.of("--server", "type=unixio,path=" + socketPath(),
                        "--ctrl", "type=unixio,path=" + dir.resolve("ctrl.sock")));
            }
            try {
                Files.deleteIfExists(socketPath());
                Files.deleteIfExists(dir.resolve("ctrl.sock"));
                process = new ProcessBuilder(full)
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("swtpm.out").toFile()))
                        .start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (awaitReady()) {
                return;
            }
            process.destroyForcibly();
            if (attempt >= 3 || channel == Channel.UNIX) {
                throw new IllegalStateException("swtpm did not start:\n" + log());
            }
        }
    }

    private boolean awaitReady() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline && process.isAlive()) {
            if (probe()) {
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

    // Both ports must be held by this swtpm: it binds the command port first and exits if the control port is
    // taken, and a probed-free port may meanwhile belong to another process (LoopbackListeners says why).
    // Without /proc, a bare connect: swtpm accepts one client at a time and closes cleanly when we hang up.
    private boolean probe() {
        if (channel == Channel.TCP && LoopbackListeners.available()) {
            return LoopbackListeners.heldBy(process.pid(), port) && LoopbackListeners.heldBy(process.pid(), port + 1);
        }
        if (channel == Channel.TCP) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
                return true;
            } catch (IOException e) {
                return false;
            }
        }
        if (!Files.exists(socketPath()) || !Files.exists(dir.resolve("ctrl.sock"))) {
            return false;
        }
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socketPath()));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** A free port whose successor is free too. */
    private static int freePort() {
        for (int i = 0; i < 50; i++) {
            try (ServerSocket a = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                int p = a.getLocalPort();
                if (p < 65535) {
                    try (ServerSocket b = new ServerSocket(p + 1, 1, InetAddress.getLoopbackAddress())) {
                        return p;
                    } catch (IOException busy) {
                        // try another pair
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalStateException("no two consecutive free loopback ports");
    }

    /**
     * An orderly reboot: TPM2_Shutdown(CLEAR) as an OS does, then the process is restarted on the same state, so
     * PCRs start from zero and resetCount goes up. Without the shutdown the TPM would report its clock as not
     * safe until its next NV clock update, as after a power loss ({@link #powerLoss()}).
     */
    public void reboot() {
        shutdownClear();
        stop();
        launch();
    }

    /**
     * An orderly reboot that also keeps a copy of the TPM's state as it was at shutdown, for tests of state
     * rollback (a TPM whose clock goes backwards without a reboot).
     */
    public void rebootKeepingState(Path copy) {
        shutdownClear();
        stop();
        copyTree(stateDir, copy);
        launch();
    }

    /** Replaces the TPM's state with an earlier copy and starts it: a rollback attack on the TPM. */
    public void restoreState(Path copy) {
        stop();
        copyTree(copy, stateDir);
        launch();
    }

    private static void copyTree(Path from, Path to) {
        try {
            Files.createDirectories(to);
            try (var files = Files.list(from)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    if (!f.getFileName().toString().startsWith(".lock")) {
                        Files.copy(f, to.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A power cut: the process is killed with no TPM2_Shutdown. */
    public void powerLoss() {
        if (process != null) {
            process.destroyForcibly();
            try {
                process.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        launch();
    }

    private void shutdownClear() {
        byte[] cmd = {(byte) 0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x45, 0, 0};
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2000);
            s.setSoTimeout(5000);
            s.getOutputStream().write(cmd);
            s.getInputStream().readNBytes(10);
        } catch (IOException e) {
            // a TPM that cannot be reached is rebooted anyway; its clock may then read as not safe
        }
    }

    /** The connector URI Outpost's tpm module takes. */
    public String uri() {
        return channel == Channel.TCP ? "swtpm:tcp://127.0.0.1:" + port : "swtpm:unix://" + socketPath();
    }

    /** The TCTI string for tpm2-tools (TCP channel only). */
    public String tcti() {
        if (channel != Channel.TCP) {
            throw new IllegalStateException("tpm2-tools' swtpm TCTI needs the TCP channel");
        }
        return "swtpm:host=127.0.0.1,port=" + port;
    }

    /**
     * Runs a tpm2-tools program against this TPM, then flushes the transient objects it left loaded (there is no
     * resource manager). Sessions stay: tpm2-tools hands them between commands as saved contexts.
     */
    public ProcessRunner.Result tpm2(Path workDir, String... args) {
        Map<String, String> env = Map.of("TPM2TOOLS_TCTI", tcti());
        List<String> cmd = new ArrayList<>();
        cmd.add(Tools.require(args[0]).toString());
        cmd.addAll(List.of(args).subList(1, args.length));
        ProcessRunner.Result r = ProcessRunner.run(cmd, workDir, env, 60);
        ProcessRunner.run(List.of(Tools.require("tpm2_flushcontext").toString(), "-t"), workDir, env, 30);
        return r;
    }

    public int port() {
        return port;
    }

    public Path dir() {
        return dir;
    }

    public Path socketPath() {
        return dir.resolve("tpm.sock");
    }

    private Path logFile() {
        return dir.resolve("swtpm.log");
    }

    /** swtpm's own log and the manufacturing log, for a failed test's report. */
    public String log() {
        StringBuilder sb = new StringBuilder();
        for (String name : List.of("swtpm_setup.log", "swtpm.out", "swtpm.log")) {
            Path p = dir.resolve(name);
            if (Files.exists(p)) {
                try {
                    sb.append("== ").append(name).append('\n').append(Files.readString(p));
                } catch (IOException e) {
                    sb.append("== ").append(name).append(": ").append(e).append('\n');
                }
            }
        }
        return sb.toString();
    }

    private void stop() {
        ProcessRunner.terminate(process);
    }

    @Override
    public void close() {
        stop();
    }
}
