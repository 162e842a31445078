package dev.outpost.central.monitoring;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;

/**
 * Central's series for Prometheus: the site API's requests by route, method and status with their duration, whether
 * this instance is ready, and the JVM's own. Several instances behind one name each answer for themselves.
 */
public final class CentralMetrics implements AutoCloseable {
    private static final String OTHER = "other";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private final Set<String> routes;

    /** {@code routes}: the site API's paths; any other path is counted under "other", so a scan adds no series. */
    public CentralMetrics(List<String> routes, Readiness readiness) {
        this.routes = Set.copyOf(routes);
        gc.bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        Gauge.builder("outpost.central.ready", readiness, r -> r.lastProblem().isEmpty() ? 1 : 0)
                .description("1 when this instance's last readiness check passed").register(registry);
    }

    /** Wraps the site API's request handler: each request timed to the end of its response. */
    public Handler<HttpServerRequest> timed(Handler<HttpServerRequest> api) {
        return req -> {
            long start = System.nanoTime();
            String route = routes.contains(req.path()) ? req.path() : OTHER;
            String method = req.method().name();
            req.response().endHandler(v -> Timer.builder("outpost.central.requests")
                    .description("site API requests, by route, method and status")
                    .tags("route", route, "method", method, "status", Integer.toString(req.response().getStatusCode()))
                    // A few buckets, enough for an alert on slow requests without a series per percentile.
                    .serviceLevelObjectives(Duration.ofMillis(50), Duration.ofMillis(250), Duration.ofSeconds(1),
                            Duration.ofSeconds(5))
                    .register(registry).record(System.nanoTime() - start, TimeUnit.NANOSECONDS));
            api.handle(req);
        };
    }

    public String scrape() {
        return registry.scrape();
    }

    /** The collection listeners removed: tests start several centrals in one JVM. */
    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
