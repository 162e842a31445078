package dev.outpost.appliance.metrics;

import java.util.Locale;
import java.util.function.ToDoubleFunction;

import dev.outpost.mqtt.endpoint.EndpointStats;
import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.Kind;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Exports the device channel's {@link EndpointStats} (embedded endpoint or broker client: the same request
 * pipeline counts for both). Read at scrape time; the endpoint keeps its counters free of Micrometer.
 */
public final class EndpointMetrics {
    private EndpointMetrics() {
    }

    public static void bind(MeterRegistry registry, EndpointStats stats) {
        for (ErrorCode code : ErrorCode.values()) {
            counter(registry, "outpost.requests.rejected", "Error replies sent to devices, by protocol error code",
                    stats, s -> s.snapshot().rejections().getOrDefault(code, 0L), "code", lower(code.name()));
        }
        for (Kind kind : Kind.values()) {
            counter(registry, "outpost.requests", "Device requests that reached the appliance's handler, by kind",
                    stats, s -> s.snapshot().requests().getOrDefault(kind, 0L), "kind", kind.wire());
        }
        counter(registry, "outpost.connections.accepted", "Device connections accepted (embedded endpoint)", stats,
                s -> s.snapshot().connectionsAccepted());
        counter(registry, "outpost.connections.refused", "Device connections refused at CONNECT (embedded endpoint)",
                stats, s -> s.snapshot().connectionsRefused());
        counter(registry, "outpost.requests.cached", "Repeated requests answered from the response cache", stats,
                s -> s.snapshot().cacheHits());
        Gauge.builder("outpost.connections", stats, s -> s.snapshot().connected())
                .description("Devices connected now (embedded endpoint; 0 in broker mode)").strongReference(true)
                .register(registry);
    }

    private static void counter(MeterRegistry registry, String name, String help, EndpointStats stats,
            ToDoubleFunction<EndpointStats> f, String... tags) {
        FunctionCounter.builder(name, stats, f).description(help).tags(tags).register(registry);
    }

    private static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }
}
