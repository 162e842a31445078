package dev.outpost.bench.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.appliance.admin.AdminClient;
import dev.outpost.appliance.app.ApplianceApp;
import dev.outpost.appliance.config.ApplianceConfig;

/**
 * The appliance under load, in this JVM, in temporary directories, on ephemeral ports; configured through its
 * admin API as an operator would.
 */
public final class SiteAppliance implements AutoCloseable {
    static final String LABEL = "load";
    static final String POLICY = "load-runtime";

    private final Path dir;
    private final ApplianceApp app;
    private final AdminClient admin;

    private SiteAppliance(Path dir, ApplianceApp app) {
        this.dir = dir;
        this.app = app;
        this.admin = new AdminClient(app.adminSocket());
    }

    public static SiteAppliance start(Path dir, RunCa ekCa, Duration interval, Duration freshness) throws Exception {
        ekCa.writeTo(dir.resolve("ek-ca"));
        Files.createDirectories(dir.resolve("allow"));
        String yaml = String.join("\n",
                "trustDomain: load.test",
                "site: load-site",
                "dataDir: " + dir.resolve("data"),
                "runtimeDir: " + dir.resolve("run"),
                "mqtt:",
                "  host: 127.0.0.1",
                "  port: 0",
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
                "");
        return new SiteAppliance(dir, ApplianceApp.start(ApplianceConfig.parse(yaml, "load-generator")));
    }

    public int mqttPort() {
        return app.mqttPort();
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

    @Override
    public void close() {
        app.stop();
    }
}
