package dev.outpost.appliance.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.appliance.app.ApplianceApp;
import dev.outpost.appliance.ca.BcUpstreamCa;
import dev.outpost.appliance.config.ApplianceConfig;

/**
 * The online first start with central out of reach (no central exists here: the URL points at a closed port): the
 * site does not serve, keeps trying, and its readiness says why. What happens once central answers is for the
 * integration test against a real central.
 */
class OfflineFirstStartTest {
    @TempDir
    Path dir;

    @Test
    void notReadyWithTheReasonWhileCentralIsUnreachable() throws Exception {
        int closed = freePort();
        int metrics = freePort();
        Path caFile = new BcUpstreamCa("Central Root").writeRoot(dir.resolve("central-ca.pem"));
        Path token = Files.writeString(dir.resolve("join.token"), "one-time-token\n");
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
        Path cfg = Files.writeString(dir.resolve("appliance.yaml"), String.join("\n",
                "trustDomain: corp.example", "site: plant-1", "dataDir: " + dir.resolve("data"),
                "runtimeDir: " + dir.resolve("run"), "metrics:", "  host: 127.0.0.1", "  port: " + metrics,
                "mqtt:", "  host: 127.0.0.1", "  port: 0", "ca:", "  mode: nested", "upstream:",
                "  url: https://127.0.0.1:" + closed, "  caFile: " + caFile, "  join: token", "  tokenFile: " + token, ""));
        ApplianceConfig config = ApplianceConfig.load(cfg);
        AtomicReference<Throwable> ended = new AtomicReference<>();
        Thread starting = new Thread(() -> {
            try {
                ApplianceApp.start(config).stop();
            } catch (Throwable t) {
                ended.set(t);
            }
        }, "starting appliance");
        starting.start();
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        String body = null;
        Instant deadline = Instant.now().plusSeconds(30);
        while (Instant.now().isBefore(deadline)) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metrics
                        + "/health/ready")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 503 && r.body().contains("central unreachable")) {
                    body = r.body();
                    break;
                }
            } catch (java.io.IOException e) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        assertThat(body).as("readiness names the reason").isNotNull().contains("no site CA yet");
        assertThat(dir.resolve("run/admin.sock")).as("nothing else serves yet").doesNotExist();
        assertThat(dir.resolve("data/ca/next.key")).as("the CA key is made on site before asking").exists();
        starting.interrupt();
        starting.join(30_000);
        assertThat(starting.isAlive()).as(java.util.Arrays.toString(starting.getStackTrace())).isFalse();
        assertThat(ended.get()).isInstanceOf(InterruptedException.class);
    }

    private static int freePort() throws java.io.IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
