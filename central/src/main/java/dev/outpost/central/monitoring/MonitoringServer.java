package dev.outpost.central.monitoring;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;

/**
 * Plain HTTP, on loopback by default: {@code /health} (the process is up), {@code /health/ready} (200, or 503 with
 * the reason), {@code /metrics} (Prometheus text). Apart from the site API, so a probe or a scrape needs no site
 * credential and a site never sees these.
 */
public final class MonitoringServer {
    private static final String TEXT = "text/plain; charset=utf-8";

    private MonitoringServer() {
    }

    public static Future<HttpServer> start(Vertx vertx, String host, int port, CentralMetrics metrics,
            Readiness readiness) {
        // HTTP/1.1 only: with h2c on (Vert.x's default) the JDK's HttpClient, which offers the upgrade, at times waited
        // for ever for a reply larger than one HTTP/2 frame (the appliance's /metrics did; its MonitoringServerTest).
        return vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(port).setIdleTimeout(30)
                .setHttp2ClearTextEnabled(false)
                .setMaxInitialLineLength(1024).setMaxHeaderSize(8 * 1024))
                .requestHandler(req -> handle(req, metrics, readiness)).listen();
    }

    private static void handle(HttpServerRequest req, CentralMetrics metrics, Readiness readiness) {
        if (!"GET".equals(req.method().name())) {
            req.response().setStatusCode(405).putHeader("Allow", "GET").end();
            return;
        }
        switch (req.path()) {
            case "/health" -> req.response().putHeader("Content-Type", TEXT).end("ok\n");
            case "/health/ready" -> readiness.check().onComplete(ar -> {
                String problem = ar.succeeded() ? ar.result().orElse(null) : String.valueOf(ar.cause());
                req.response().setStatusCode(problem == null ? 200 : 503).putHeader("Content-Type", TEXT)
                        .end(problem == null ? "ready\n" : "not ready: " + problem + "\n");
            });
            case "/metrics" -> req.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                    .end(metrics.scrape());
            default -> req.response().setStatusCode(404).putHeader("Content-Type", TEXT).end("no such path\n");
        }
    }
}
