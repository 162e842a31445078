package dev.outpost.central.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.central.Harness;

/** Central's monitoring listener, on a running central: liveness, readiness that follows the database, the series. */
class MonitoringTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void healthReadinessAndTheSiteApisRequestsAreServed(@TempDir Path dir) throws Exception {
        try (Harness central = Harness.h2(dir)) {
            String base = "http://127.0.0.1:" + central.app.monitoringPort();
            assertThat(get(base + "/health").body()).isEqualTo("ok\n");
            HttpResponse<String> ready = get(base + "/health/ready");
            assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);

            // A site API request without a credential, and a path the API does not serve.
            int refused = central.anonymous.get("/v1/site/bundle", null).status();
            assertThat(refused).isBetween(400, 499);
            assertThat(central.anonymous.get("/v1/nothing/" + "x".repeat(40), null).status()).isEqualTo(404);

            String metrics = get(base + "/metrics").body();
            assertThat(metrics)
                    .contains("outpost_central_requests_seconds_count{method=\"GET\",route=\"/v1/site/bundle\",status=\""
                            + refused + "\",} 1.0")
                    .contains("outpost_central_requests_seconds_count{method=\"GET\",route=\"other\",status=\"404\",} 1.0")
                    .contains("outpost_central_requests_seconds_bucket{method=\"GET\",route=\"other\",status=\"404\",le=\"0.25\",} 1.0")
                    .doesNotContain("/v1/nothing")
                    .contains("outpost_central_ready 1.0")
                    .contains("jvm_memory_used_bytes")
                    .contains("process_cpu_usage");

            HttpResponse<String> post = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/metrics"))
                    .POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(post.statusCode()).isEqualTo(405);
            assertThat(get(base + "/other").statusCode()).isEqualTo(404);

            // The database gone: not ready, and why.
            central.services().db.close();
            HttpResponse<String> down = get(base + "/health/ready");
            assertThat(down.statusCode()).isEqualTo(503);
            assertThat(down.body()).startsWith("not ready: database");
            assertThat(get(base + "/metrics").body()).contains("outpost_central_ready 0.0");
            assertThat(get(base + "/health").statusCode()).as("the process is still up").isEqualTo(200);
        }
    }

    @Test
    void theListenerCanBeTurnedOff(@TempDir Path dir) throws Exception {
        var config = Harness.config(dir, null);
        config.monitoring.enabled = false;
        try (Harness central = Harness.start(config)) {
            assertThat(central.app.monitoringPort()).isEqualTo(-1);
        }
    }

    private static HttpResponse<String> get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
