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
    private final java.util.function.BooleanSupplier ready;
    private HttpServer server;

    public MonitoringServer(PrometheusMeterRegistry registry, java.util.function.BooleanSupplier ready) {
        this.registry = registry;
        this.ready = ready;
    }

    public Future<Integer> start(Vertx vertx, String host, int port) {
        Router r = Router.router(vertx);
        r.get("/health/live").handler(ctx -> ctx.response().end("{\"status\":\"live\"}"));
        r.get("/health/ready").handler(ctx -> {
            boolean ok = ready.getAsBoolean();
            ctx.response().setStatusCode(ok ? 200 : 503).end(ok ? "{\"status\":\"ready\"}" : "{\"status\":\"starting\"}");
        });
        r.get("/metrics").handler(ctx -> {
            try {
                String body = registry.scrape();
                ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(body);
            } catch (RuntimeException e) {
                // Say why, rather than the router's empty 500.
                ctx.response().setStatusCode(500).end("metrics scrape failed: " + e);
            }
        });
        return vertx.createHttpServer().requestHandler(r).listen(port, host).map(s -> {
            server = s;
            return s.actualPort();
        });
    }

    public Future<Void> close() {
        return server == null ? Future.succeededFuture() : server.close();
    }
}
