package dev.outpost.appliance.metrics;

import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;

/**
 * Health for systemd and monitoring, and Prometheus metrics, on a loopback port by default: nothing here is
 * for the network at large.
 */
public final class MonitoringServer {
    private final PrometheusMeterRegistry registry;
    private final Readiness readiness;
    private HttpServer server;

    public MonitoringServer(PrometheusMeterRegistry registry, Readiness readiness) {
        this.registry = registry;
        this.readiness = readiness;
    }

    public Future<Integer> start(Vertx vertx, String host, int port) {
        Router r = Router.router(vertx);
        // Liveness: the process answers. Nothing it depends on is asked, so a database outage makes the appliance
        // not ready (out of rotation, alerts) without a supervisor restarting a process that would recover.
        r.get("/health/live").handler(ctx -> ctx.response().putHeader("Content-Type", "application/json")
                .end("{\"status\":\"live\"}"));
        // The checks block (a database write): on a worker, unordered so a slow probe does not queue the next.
        r.get("/health/ready").handler(ctx -> vertx.executeBlocking(readiness::evaluate, false).onComplete(ar -> {
            if (ar.failed()) {
                ctx.response().setStatusCode(503).putHeader("Content-Type", "application/json")
                        .end(new io.vertx.core.json.JsonObject().put("status", "not ready")
                                .put("failed", new io.vertx.core.json.JsonObject().put("readiness",
                                        "evaluation failed: " + ar.cause())).encode());
                return;
            }
            Readiness.Report report = ar.result();
            ctx.response().setStatusCode(report.ready() ? 200 : 503).putHeader("Content-Type", "application/json")
                    .end(report.json().encode());
        }));
        r.get("/metrics").handler(ctx -> {
            try {
                String body = registry.scrape();
                ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(body);
            } catch (RuntimeException e) {
                // Say why, rather than the router's empty 500.
                ctx.response().setStatusCode(500).end("metrics scrape failed: " + e);
            }
        });
        // HTTP/1.1 only. With h2c on (Vert.x's default), the JDK's HttpClient, which offers the upgrade by default,
        // waited for ever, its own timeout included, for a reply larger than one HTTP/2 frame (16 KiB): /metrics
        // grew past that, and a site test hung CI for 84 minutes. Scrapers and probes speak HTTP/1.1.
        return vertx.createHttpServer(new io.vertx.core.http.HttpServerOptions().setHttp2ClearTextEnabled(false))
                .requestHandler(r).listen(port, host).map(s -> {
            server = s;
            return s.actualPort();
        });
    }

    public Future<Void> close() {
        return server == null ? Future.succeededFuture() : server.close();
    }
}
