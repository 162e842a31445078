package dev.outpost.appliance.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.vertx.core.Vertx;

/**
 * A scrape larger than one HTTP/2 frame, by a client that offers the h2c upgrade (the JDK's HttpClient does by
 * default). With h2c on, the reply came over the upgraded connection, and at times the client waited for ever, its
 * own request timeout included: a site test that read /metrics hung CI. Whether it hangs depends on timing; what is
 * checked is that the server answers in HTTP/1.1, whole.
 */
class MonitoringServerTest {

    @Test
    void aLargeScrapeReachesAClientThatOffersH2c() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        for (int i = 0; i < 1000; i++) {
            Counter.builder("outpost_test_padding").tag("n", Integer.toString(i)).register(registry).increment();
        }
        Vertx vertx = Vertx.vertx();
        try {
            MonitoringServer server = new MonitoringServer(registry, new Readiness(List.of()));
            int port = server.start(vertx, "127.0.0.1", 0).toCompletionStage().toCompletableFuture()
                    .get(10, TimeUnit.SECONDS);
            HttpClient offersH2c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
            for (int i = 0; i < 5; i++) {
                // Bounded from outside: the client's own timeout did not end the wait.
                HttpResponse<String> r = offersH2c.sendAsync(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString())
                        .get(20, TimeUnit.SECONDS);
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
                assertThat(r.body().length()).as("more than one HTTP/2 frame").isGreaterThan(16 * 1024);
                assertThat(r.body()).contains("outpost_test_padding_total{n=\"999\",} 1.0");
            }
            server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }
}
