package dev.outpost.appliance.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;

/**
 * The JVM's own series beside the site's: heap and its pools, collection pauses, threads, CPU, open files. At 2,000
 * attestations a second the appliance's young collections and the backlog each leaves are a large part of its latency
 * tail (BENCHMARKS.md), which an operator could not see on /metrics before.
 */
public final class JvmMetrics implements AutoCloseable {
    private final JvmGcMetrics gc = new JvmGcMetrics();

    private JvmMetrics() {
    }

    public static JvmMetrics bind(MeterRegistry registry) {
        JvmMetrics m = new JvmMetrics();
        m.gc.bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        return m;
    }

    /** Removes the collection listeners: several appliances start and stop in one JVM in the tests. */
    @Override
    public void close() {
        gc.close();
    }
}
