package dev.outpost.appliance.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.appliance.cli.ApplianceCli;
import dev.outpost.appliance.store.DeviceState;
import dev.outpost.testkit.CliRun;

/**
 * {@code outpost-appliance status}: what waits for central, read from a running appliance through its admin socket.
 * A site without an upstream link keeps its outbox (bounded) for a later join.
 */
class StatusCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void showsTheOutboxBacklog(@TempDir Path dir) throws Exception {
        try (AdminHarness h = new AdminHarness(dir, null).seedDevice(1, DeviceState.FAILED, "pcr 7 changed").start()) {
            // The seeded enrollment and failure are queued; the status follows the outbox's next round (every 2 s).
            JsonNode outbox = awaitStatus(h, "outbox", o -> o.path("backlogRows").asLong() >= 2);
            assertThat(outbox.path("backlogRows").asLong()).isGreaterThanOrEqualTo(2);
            assertThat(outbox.path("linked").asBoolean()).isFalse();
            assertThat(outbox.path("backlogBytes").asLong()).isPositive();
            assertThat(outbox.path("oldestAt").isNull()).isFalse();
            assertThat(outbox.path("coalesced").asLong()).isZero();
            assertThat(outbox.path("maxRows").asLong()).isEqualTo(100_000);
            // The same numbers as metrics.
            java.net.http.HttpResponse<String> m = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest
                    .newBuilder(java.net.URI.create("http://127.0.0.1:" + h.metricsPort() + "/metrics")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(m.body()).contains("outpost_outbox_backlog_rows ", "outpost_outbox_backlog_bytes ",
                    "outpost_outbox_oldest_age_seconds ", "outpost_outbox_coalesced_total ");
            String text = run(h, "status");
            assertThat(text).contains("outbox:").contains("no upstream link").contains("coalesced:");
        }
    }

    @Test
    void showsRevocationsWaitingForAWebhookThatIsDown(@TempDir Path dir) throws Exception {
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        String url = "http://127.0.0.1:" + closed + "/revoked";
        try (AdminHarness h = new AdminHarness(dir, null).seedDevice(1, DeviceState.TRUSTED, null)
                .attestationConfig("  webhook:", "    url: " + url, "    allowInsecureHttp: true").start()) {
            JsonNode none = JSON.readTree(run(h, "status", "--json")).path("webhook");
            assertThat(none.path("url").asText()).isEqualTo(url);
            assertThat(none.path("waiting").asLong()).isZero();

            run(h, "device", "revoke", AdminHarness.deviceId(1), "--reason", "stolen");
            JsonNode hook = awaitStatus(h, "webhook", w -> w.path("failedInARow").asInt() >= 1);
            assertThat(hook.path("waiting").asLong()).isEqualTo(1);
            assertThat(hook.path("failedInARow").asInt()).isPositive();
            assertThat(hook.path("lastError").asText()).contains("ConnectException");
            assertThat(hook.path("nextTryAt").isNull()).isFalse();
            assertThat(run(h, "status")).contains("webhook:       " + url + ": 1 waiting, 0 delivered, 0 dropped")
                    .contains("webhook error: ConnectException");
        }
    }

    /** The part of {@code status --json} once it passes {@code until}, or as it is after 20 s (the asserts say why). */
    private static JsonNode awaitStatus(AdminHarness h, String part, java.util.function.Predicate<JsonNode> until)
            throws Exception {
        JsonNode n = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            n = JSON.readTree(run(h, "status", "--json")).path(part);
            if (until.test(n)) {
                break;
            }
            Thread.sleep(200);
        }
        return n;
    }

    private static String run(AdminHarness h, String... args) {
        String[] full = new String[args.length + 2];
        System.arraycopy(args, 0, full, 0, args.length);
        full[args.length] = "--socket";
        full[args.length + 1] = h.socket.toString();
        CliRun r = CliRun.run(ApplianceCli::commandLine, full);
        assertThat(r.exitCode()).as(r.err()).isZero();
        return r.out();
    }
}
