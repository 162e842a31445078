package dev.outpost.appliance.site;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.agent.run.AgentDaemon;
import dev.outpost.agent.state.AgentState;
import dev.outpost.agent.state.NodeIdentity;
import dev.outpost.appliance.app.ApplianceApp;
import dev.outpost.appliance.config.ApplianceConfig;
import dev.outpost.testkit.LocalEkCa;
import dev.outpost.testkit.Swtpm;

/**
 * A site on one machine for integration tests: an appliance (in this JVM) with its own data and runtime
 * directories, and agents on their own swtpms, each in a thread.
 */
final class SiteHarness implements AutoCloseable {
    static final String TRUST_DOMAIN = "outpost.test";

    private final Path dir;
    private final String ekTrust;
    private final Duration svidTtl;
    private ApplianceApp app;
    private Process process;
    private Duration attestInterval = Duration.ofMinutes(1);
    private Duration freshness = Duration.ofMinutes(5);
    private Duration challengeTtl = Duration.ofSeconds(30);
    private Duration flushInterval;
    private boolean failOnImaViolations;
    private String nodeKeys = "tpm";
    private long maxBufferedEvidenceBytes;
    private java.time.Clock clock = java.time.Clock.systemUTC();
    private java.time.Clock agentClock = java.time.Clock.systemUTC();
    private String brokerUri;
    private int agentPort;
    private Integer agentEnrollPort;
    private int mqttPort;
    private final List<Running> agents = new ArrayList<>();
    private String extraConfig = "";
    private String caLines = "";
    private Path agentBundle;

    record Running(AgentDaemon daemon, Thread thread, AgentConfig config) {
    }

    SiteHarness(Path dir, String ekTrust, Duration svidTtl) throws IOException {
        this.dir = dir;
        this.ekTrust = ekTrust;
        this.svidTtl = svidTtl;
        Files.createDirectories(dir.resolve("ek-ca"));
        Files.createDirectories(dir.resolve("allow"));
    }

    /** Trust the EK certificates of this JVM's swtpms (their CA exists once a swtpm was manufactured). */
    void trustSwtpmManufacturer() throws IOException {
        Files.copy(LocalEkCa.get().rootCertificate(), dir.resolve("ek-ca/root.pem"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(LocalEkCa.get().issuerCertificate(), dir.resolve("ek-ca/issuer.pem"), StandardCopyOption.REPLACE_EXISTING);
    }

    Path configFile() throws IOException {
        Path f = dir.resolve("appliance.yaml");
        Files.writeString(f, String.join("\n",
                "trustDomain: " + TRUST_DOMAIN,
                "site: test-site",
                "dataDir: " + dir.resolve("data"),
                "runtimeDir: " + dir.resolve("run"),
                "mqtt:",
                "  host: 127.0.0.1",
                "  port: " + mqttPort,
                brokerUri == null ? "" : "  mode: broker\n  broker:\n    uri: " + brokerUri,
                "metrics:",
                "  host: 127.0.0.1",
                "  port: 0",
                "ca:",
                "  svidTtl: " + svidTtl,
                caLines,
                "enrollment:",
                "  ekTrust: " + ekTrust,
                "  allowListDir: " + dir.resolve("allow"),
                "  ekCaDir: " + dir.resolve("ek-ca"),
                "  deviceRateLimitPerMinute: 100",
                "  nodeKeys: " + nodeKeys,
                "attestation:",
                "  interval: " + attestInterval,
                "  freshness: " + freshness,
                "  challengeTtl: " + challengeTtl,
                flushInterval == null ? "" : "  flushInterval: " + flushInterval,
                "  failOnImaViolations: " + failOnImaViolations,
                "  maxEvidenceBytes: " + Math.max(1 << 20, maxBufferedEvidenceBytes == 0 ? 33554432 : maxBufferedEvidenceBytes),
                "  maxBufferedEvidenceBytes: " + maxBufferedEvidenceBytes,
                extraConfig,
                ""));
        return f;
    }

    /** Fast attestation for tests: devices attest every {@code interval} and go stale after {@code freshness}. */
    SiteHarness attestEvery(Duration interval, Duration freshness) {
        this.attestInterval = interval;
        this.freshness = freshness;
        return this;
    }

    /** External broker mode: the appliance connects to this broker; agents use its two listeners. */
    SiteHarness viaBroker(String uri, int mtlsPort, int enrollPort) {
        this.brokerUri = uri;
        this.agentPort = mtlsPort;
        this.agentEnrollPort = enrollPort;
        return this;
    }

    /**
     * How long routine passes wait in memory before the appliance writes them (default: the appliance's own). Long,
     * it leaves the write at shutdown as the only one, for tests of what a restart keeps.
     */
    /** attestation.failOnImaViolations: a violation the quote covers fails the device. */
    SiteHarness failOnImaViolations() {
        this.failOnImaViolations = true;
        return this;
    }

    /** attestation.maxBufferedEvidenceBytes (and as much per device): what all devices may buffer together. */
    SiteHarness bufferEvidenceAtMost(long bytes) {
        this.maxBufferedEvidenceBytes = bytes;
        return this;
    }

    /** enrollment.nodeKeys: software-allowed (CSRs without a TPM certification are accepted and marked). */
    SiteHarness allowSoftwareNodeKeys() {
        this.nodeKeys = "software-allowed";
        return this;
    }

    /** The same agent configuration with another nodeKey setting (tpm, software). */
    static AgentConfig withNodeKey(AgentConfig c, String nodeKey) {
        return new AgentConfig(c.appliance(), c.tpm(), c.stateDir(), c.trust(), c.ek(), c.ak(), c.topicPrefix(),
                c.renewFraction(), c.requestTimeout(), c.imaLog(), c.bootLog(), nodeKey);
    }

    SiteHarness flushEvery(Duration interval) {
        this.flushInterval = interval;
        return this;
    }

    SiteHarness challengeTtl(Duration ttl) {
        this.challengeTtl = ttl;
        return this;
    }

    /** Whole top-level sections appended to the configuration, e.g. {@code upstream:}. */
    /** The {@code upstream:} block of a site that joins central at {@code port} by its gateway's TPM; more lines after it. */
    static String upstreamByTpm(int port, Path centralRoot, dev.outpost.testkit.Swtpm gateway, String... more) {
        StringBuilder b = new StringBuilder(String.join("\n", "upstream:", "  url: https://127.0.0.1:" + port,
                "  caFile: " + centralRoot, "  join: tpm", "  tpm: " + gateway.uri()));
        for (String line : more) {
            b.append('\n').append(line);
        }
        return b.toString();
    }

    SiteHarness extraConfig(String yaml) {
        this.extraConfig = yaml;
        return this;
    }

    /** More keys under {@code ca:} (each line indented two spaces), e.g. {@code "  mode: nested"}. */
    SiteHarness caConfig(String... lines) {
        this.caLines = String.join("\n", lines);
        return this;
    }

    /** The bundle agents start with (default: the site CA's ca.crt, which for a nested CA holds no root). */
    SiteHarness agentBundle(Path bundle) {
        this.agentBundle = bundle;
        return this;
    }

    /** The clock the appliance reads time from (the wall clock unless a test gives one it moves). */
    SiteHarness withClock(java.time.Clock clock) {
        this.clock = clock;
        return this;
    }

    /** The clock agents started from now on read time from (the wall clock unless a test gives one it moves). */
    SiteHarness withAgentClock(java.time.Clock clock) {
        this.agentClock = clock;
        return this;
    }

    ApplianceApp startAppliance() throws Exception {
        app = ApplianceApp.start(ApplianceConfig.load(configFile()), clock);
        mqttPort = app.mqttPort();
        return app;
    }

    void stopAppliance() {
        if (app != null) {
            app.stop();
            app = null;
        }
        if (process != null) {
            process.destroy();
            try {
                // A process whose shutdown hangs is killed, not left running beside the next test.
                if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
                    System.err.println("appliance process did not stop in 20 s after SIGTERM: killed");
                    process.destroyForcibly().waitFor(20, java.util.concurrent.TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
            process = null;
        }
    }

    /** The appliance as its own process (`outpost-appliance run`), on a fixed port so agents find it again. */
    void startApplianceProcess() throws Exception {
        if (mqttPort == 0) {
            try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
                mqttPort = s.getLocalPort();
            }
        }
        Path log = dir.resolve("appliance.log");
        process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.outpost.appliance.cli.ApplianceCli", "run",
                "--config", configFile().toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        Path socket = dir.resolve("run/admin.sock");
        await("appliance process up", Duration.ofSeconds(60), () -> {
            try {
                return Files.exists(socket) && new dev.outpost.appliance.admin.AdminClient(socket).get("/health").ok();
            } catch (IOException e) {
                return false;
            }
        });
    }

    /** SIGKILL: no shutdown hook, no flush: what a power cut does to the process. */
    void killApplianceProcess() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS);
        process = null;
    }

    ApplianceApp appliance() {
        return app;
    }

    Path adminSocket() {
        return dir.resolve("run/admin.sock");
    }

    int mqttPort() {
        return mqttPort;
    }

    Path caPem() {
        return dir.resolve("data/ca/ca.crt");
    }

    AgentConfig agentConfig(Swtpm tpm, String name, String ek, String ak) throws IOException {
        return agentConfig(tpm, name, ek, ak, dir.resolve(name + "-securityfs"));
    }

    /** An agent that reads its IMA list and boot log from {@code securityfs} (a SimulatedKernel's directory). */
    AgentConfig agentConfig(Swtpm tpm, String name, String ek, String ak, Path securityfs) throws IOException {
        return agentConfig(tpm, name, ek, ak, securityfs, "  bundle: " + (agentBundle != null ? agentBundle : caPem()));
    }

    /** An agent that trusts the appliance by a pinned SHA-256 fingerprint of the site CA instead of a bundle file. */
    AgentConfig agentConfigPinned(Swtpm tpm, String name, String fingerprintHex) throws IOException {
        return agentConfig(tpm, name, "rsa2048", "rsa", dir.resolve(name + "-securityfs"),
                "  caFingerprintSha256: " + fingerprintHex);
    }

    private AgentConfig agentConfig(Swtpm tpm, String name, String ek, String ak, Path securityfs, String trustLine)
            throws IOException {
        Path f = dir.resolve(name + ".yaml");
        Files.writeString(f, String.join("\n",
                "appliance:",
                "  host: 127.0.0.1",
                "  port: " + (agentPort != 0 ? agentPort : mqttPort),
                agentEnrollPort == null ? "" : "  mode: broker\n  enrollPort: " + agentEnrollPort,
                "tpm: " + tpm.uri(),
                "stateDir: " + dir.resolve(name),
                "trust:",
                trustLine,
                "ek: " + ek,
                "ak: " + ak,
                "requestTimeout: PT20S",
                "imaLog: " + securityfs.resolve("ima/binary_runtime_measurements"),
                "bootLog: " + securityfs.resolve("binary_bios_measurements"),
                ""));
        return AgentConfig.load(f);
    }

    Running startAgent(AgentConfig config) {
        AgentDaemon d = new AgentDaemon(config, agentClock);
        Thread t = new Thread(d, "agent-" + config.stateDir().getFileName());
        t.setDaemon(true);
        t.start();
        Running r = new Running(d, t, config);
        agents.add(r);
        return r;
    }

    static void stopAgent(Running r) throws InterruptedException {
        r.daemon().stop();
        r.thread().join(20_000);
    }

    /** Stores a runtime policy and assigns it to the device behind this swtpm; returns the device id. */
    String trustWithPolicy(Swtpm tpm, Path runtimePolicy) throws IOException {
        String out = dev.outpost.testkit.CliRun.run(dev.outpost.agent.cli.AgentCli::commandLine, "tpm", "ek", "--tpm",
                tpm.uri(), "--json").out();
        String deviceId = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out).path("deviceId").asText();
        String socket = adminSocket().toString();
        for (String[] args : new String[][] {
            {"policy", "add", "runtime-" + deviceId.substring(0, 8), "--kind", "runtime", "--file", runtimePolicy.toString(),
                "--socket", socket},
            {"policy", "assign", "runtime-" + deviceId.substring(0, 8), "--device", deviceId, "--socket", socket}}) {
            var r = dev.outpost.testkit.CliRun.run(dev.outpost.appliance.cli.ApplianceCli::commandLine, args);
            if (r.exitCode() != 0) {
                throw new IOException(String.join(" ", args) + ": " + r.err());
            }
        }
        return deviceId;
    }

    /** The agent's identity on disk; its node key signs through the agent's TPM (node keys are TPM-held). */
    static NodeIdentity identity(AgentConfig c) throws IOException {
        return new AgentState(c.stateDir(), dev.outpost.agent.enroll.DeviceTpm.of(c)::sign).identity().orElse(null);
    }

    /** Polls a condition (the system under test works asynchronously); fails with the message after the deadline. */
    static void await(String what, Duration limit, BooleanSupplier condition) throws InterruptedException {
        Instant deadline = Instant.now().plus(limit);
        while (!condition.getAsBoolean()) {
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(100);
        }
    }

    /**
     * A raw session of the device whose agent state is {@code config}, with its SVID (mTLS), for tests that play the
     * device themselves; closed again if the appliance refuses it.
     */
    static dev.outpost.agent.mqtt.ApplianceClient connectWithSvid(SiteHarness site, AgentConfig config) throws Exception {
        NodeIdentity id = identity(config);
        String deviceId = id.spiffeId().substring(id.spiffeId().lastIndexOf('/') + 1);
        dev.outpost.agent.mqtt.ApplianceClient c = new dev.outpost.agent.mqtt.ApplianceClient("127.0.0.1",
                site.mqttPort(), deviceId, new dev.outpost.mqtt.protocol.Topics(), new dev.outpost.mqtt.protocol.Codec(),
                Duration.ofSeconds(20));
        try {
            c.connect(dev.outpost.agent.tls.TlsContexts.context(dev.outpost.agent.tls.TlsContexts.trusting(id.bundle()),
                    id));
        } catch (org.eclipse.paho.mqttv5.common.MqttException e) {
            c.close();
            throw e;
        }
        return c;
    }

    static boolean hasIdentity(AgentConfig c) {
        try {
            return identity(c) != null;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() throws InterruptedException {
        for (Running r : agents) {
            stopAgent(r);
        }
        stopAppliance();
    }
}
