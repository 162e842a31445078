package dev.outpost.bench.load;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.appliance.admin.AdminClient;

/**
 * The appliance under load in its own JVM, started as {@code outpost-appliance run} is, from a configuration file
 * in a temporary directory, and set up through its admin socket as an operator would. Its own process, so its CPU
 * time and resident memory are read from the kernel, apart from the load generator's.
 */
public final class ApplianceProcess implements AutoCloseable {
    static final String LABEL = "load";
    static final String POLICY = "load-runtime";
    private static final String MAIN = "dev.outpost.appliance.cli.ApplianceCli";

    private final Path dir;
    private final Path config;
    private final List<String> jvmOptions;
    private final int mqttPort;
    private final AdminClient admin;
    private final String main;
    private java.io.Writer commands;
    private Process process;
    private double cpuBeforeRestarts;

    /** Resource use of the appliance process so far (CPU across restarts). */
    public record Usage(double cpuSeconds, long rssBytes, long peakRssBytes, int threads) {
    }

    private ApplianceProcess(Path dir, Path config, List<String> jvmOptions, int mqttPort, String main) {
        this.main = main;
        this.dir = dir;
        this.config = config;
        this.jvmOptions = jvmOptions;
        this.mqttPort = mqttPort;
        this.admin = new AdminClient(dir.resolve("run/admin.sock"));
    }

    /**
     * Writes the configuration and starts the appliance. With {@code brokerUri} the appliance runs in external
     * broker mode and devices connect to the broker instead.
     */
    public static ApplianceProcess start(Path dir, RunCa ekCa, Duration interval, Duration freshness, String brokerUri,
            List<String> jvmOptions) throws IOException, InterruptedException {
        return start(dir, ekCa, interval, freshness, brokerUri, jvmOptions, false);
    }

    /**
     * As above; with {@code hooks} the process is {@link HookedAppliance} (the same start, plus the command that
     * changes the site bundle: {@link #federate}).
     */
    public static ApplianceProcess start(Path dir, RunCa ekCa, Duration interval, Duration freshness, String brokerUri,
            List<String> jvmOptions, boolean hooks) throws IOException, InterruptedException {
        ekCa.writeTo(dir.resolve("ek-ca"));
        Files.createDirectories(dir.resolve("allow"));
        int port = brokerUri == null ? freePort() : 0;
        Path config = dir.resolve("appliance.yaml");
        Files.writeString(config, String.join("\n",
                "trustDomain: load.test",
                "site: load-site",
                "dataDir: " + dir.resolve("data"),
                "runtimeDir: " + dir.resolve("run"),
                "mqtt:",
                "  host: 127.0.0.1",
                "  port: " + port,
                brokerUri == null ? "" : "  mode: broker\n  broker:\n    uri: " + brokerUri,
                "metrics:",
                "  host: 127.0.0.1",
                "  port: 0",
                "enrollment:",
                "  ekTrust: cert",
                "  allowListDir: " + dir.resolve("allow"),
                "  ekCaDir: " + dir.resolve("ek-ca"),
                // An enrollment storm is the point: the site-wide limit would otherwise be what gets measured.
                "  rateLimitPerMinute: 1000000",
                "  deviceRateLimitPerMinute: 100",
                "attestation:",
                "  interval: " + interval,
                "  freshness: " + freshness,
                "  challengeTtl: PT60S",
                ""));
        ApplianceProcess p = new ApplianceProcess(dir, config, jvmOptions, port,
                hooks ? HookedAppliance.class.getName() : MAIN);
        p.launch();
        return p;
    }

    /** The appliance's GC log, written when the run did not set its own {@code -Xlog:gc}. */
    Path gcLog() {
        return dir.resolve("appliance-gc.log");
    }

    private void launch() throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(jvmOptions);
        // Its pauses go into the report beside the latencies (GcPauses), unless the run logs GC its own way.
        if (jvmOptions.stream().noneMatch(o -> o.startsWith("-Xlog:gc"))) {
            cmd.add(GcPauses.option(gcLog()));
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main));
        cmd.addAll(main.equals(MAIN) ? List.of("run", "--config", config.toString()) : List.of(config.toString()));
        Files.deleteIfExists(dir.resolve("run/admin.sock"));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        // As the shipped systemd unit runs it (packaging/systemd/outpost-appliance.service).
        pb.environment().put("MALLOC_ARENA_MAX", "2");
        process = pb.redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("appliance.log").toFile())).start();
        commands = new java.io.OutputStreamWriter(process.getOutputStream(), java.nio.charset.StandardCharsets.UTF_8);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("the appliance exited with " + process.exitValue() + "; see " + dir.resolve("appliance.log"));
            }
            if (Files.exists(dir.resolve("run/admin.sock"))) {
                try {
                    if (admin.get("/v1/devices").ok()) {
                        return;
                    }
                } catch (IOException notYet) {
                    // the socket file exists a moment before it accepts
                }
            }
            Thread.sleep(100);
        }
        throw new IOException("the appliance did not come up within 60 s; see " + dir.resolve("appliance.log"));
    }

    /** Stops the appliance as systemd does (SIGTERM, then wait) and starts it again on the same data. */
    public void restart() throws IOException, InterruptedException {
        cpuBeforeRestarts += stop();
        launch();
    }

    private double stop() throws InterruptedException {
        if (process == null || !process.isAlive()) {
            return 0;
        }
        double cpu = cpuSeconds(process.toHandle());
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        return cpu;
    }

    /** What {@link #federate} did: the sequence published and the appliance's System.nanoTime around the call. */
    public record BundleChange(long sequence, long startNanos, long endNanos) {
    }

    /**
     * Makes {@code roots} the one federated trust domain's roots in the site bundle, in the appliance process
     * ({@link HookedAppliance}); returns once the appliance has handed the bundle to every connection.
     */
    public BundleChange federate(String trustDomain, Path rootsPem, Duration timeout) throws IOException,
            InterruptedException {
        Path reply = dir.resolve("bundle-change.reply");
        Files.deleteIfExists(reply);
        commands.write("federate " + trustDomain + " " + rootsPem.toAbsolutePath() + " " + reply.toAbsolutePath() + "\n");
        commands.flush();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!Files.exists(reply)) {
            if (System.nanoTime() > deadline || !process.isAlive()) {
                throw new IOException("no bundle change within " + timeout + "; see " + dir.resolve("appliance.log"));
            }
            Thread.sleep(1);
        }
        String[] f = Files.readString(reply).trim().split(" ");
        return new BundleChange(Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2]));
    }

    public int mqttPort() {
        return mqttPort;
    }

    public long pid() {
        return process.pid();
    }

    public Usage usage() throws IOException {
        return usage(process.toHandle(), cpuBeforeRestarts);
    }

    /** A process's CPU (plus {@code cpuBefore}), resident memory and its peak, and threads, from /proc. */
    static Usage usage(ProcessHandle h, double cpuBefore) throws IOException {
        Map<String, Long> status = new HashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(h.pid()), "status"))) {
            String[] kv = line.split(":\\s+", 2);
            if (kv.length == 2 && (kv[0].equals("VmRSS") || kv[0].equals("VmHWM") || kv[0].equals("Threads"))) {
                status.put(kv[0], Long.parseLong(kv[1].replace(" kB", "").trim()));
            }
        }
        return new Usage(cpuBefore + cpuSeconds(h), status.getOrDefault("VmRSS", 0L) * 1024,
                status.getOrDefault("VmHWM", 0L) * 1024, status.getOrDefault("Threads", 0L).intValue());
    }

    private static double cpuSeconds(ProcessHandle h) {
        return h.info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(0.0);
    }

    public X509Certificate siteCa() throws IOException, GeneralSecurityException {
        try (var in = Files.newInputStream(dir.resolve("data/ca/ca.crt"))) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    /** Stores the runtime policy and assigns it to the label every device gets once enrolled. */
    public void installPolicy(String runtimePolicyJson) throws IOException {
        // The admin API's catch-all body limit (64 KiB) applies before the policy route's own larger one, so a
        // bigger policy is refused with 413; say so instead of failing obscurely.
        if (runtimePolicyJson.length() > 64 * 1024) {
            throw new IOException("runtime policy of " + runtimePolicyJson.length() + " bytes: the admin API takes"
                    + " 64 KiB at most; use a smaller --pool");
        }
        expectOk(admin.post("/v1/policies/" + POLICY + "?kind=runtime", runtimePolicyJson), "store policy");
        expectOk(admin.post("/v1/policies/" + POLICY + "/assign", "{\"label\":\"" + LABEL + "\"}"), "assign policy");
    }

    public void label(String deviceId) throws IOException {
        expectOk(admin.post("/v1/devices/" + deviceId + "/labels", "{\"label\":\"" + LABEL + "\"}"), "label " + deviceId);
    }

    /** Device id → state, as the operator sees it. */
    public Map<String, String> states() throws IOException {
        AdminClient.Reply r = admin.get("/v1/devices");
        expectOk(r, "list devices");
        Map<String, String> m = new HashMap<>();
        JsonNode root = new ObjectMapper().readTree(r.body());
        JsonNode list = root.isArray() ? root : root.path("devices");
        for (JsonNode d : list) {
            m.put(d.path("deviceId").asText(), d.path("state").asText());
        }
        return m;
    }

    /** Bytes of the H2 database files. */
    public long databaseBytes() throws IOException {
        Path data = dir.resolve("data");
        try (Stream<Path> s = Files.walk(data)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".db")).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    private static void expectOk(AdminClient.Reply r, String what) throws IOException {
        if (!r.ok()) {
            throw new IOException(what + ": HTTP " + r.status() + " " + r.body());
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
