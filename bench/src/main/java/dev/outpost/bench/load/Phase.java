package dev.outpost.bench.load;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A phase's wall time and what the two processes spent in it: the appliance's CPU and memory, the generator's
 * (heap used at the end, and live after a full GC: what the simulated devices hold), and every
 * {@link #SAMPLE_SECONDS} the appliance's resident memory and H2 file size, both processes' CPU so far and the
 * operations done, so a report can tell the warmed-up cost from the whole phase's (the JIT compiles for the first
 * minute or two of an appliance's life, a core's worth at times).
 */
record Phase(double wallSeconds, double applianceCpuSeconds, double generatorCpuSeconds,
        ApplianceProcess.Usage applianceAfter, long generatorHeapUsed, long generatorHeapLive,
        ApplianceProcess.Usage generatorAfter, int generatorThreads, List<long[]> samples) {

    /**
     * Every this many seconds: seconds into the phase, appliance RSS and H2 file bytes, appliance and generator CPU
     * milliseconds since the phase began, operations done.
     */
    static final int SAMPLE_SECONDS = 10;

    interface Body {
        void run() throws Exception;
    }

    static Phase measure(ApplianceProcess app, Body body) throws Exception {
        return measure(app, () -> 0, body);
    }

    static Phase measure(ApplianceProcess app, java.util.function.IntSupplier ops, Body body) throws Exception {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long generatorCpu = os.getProcessCpuTime();
        double applianceCpu = app.usage().cpuSeconds();
        long t = System.nanoTime();
        List<long[]> samples = Collections.synchronizedList(new ArrayList<>());
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        sampler.scheduleAtFixedRate(() -> {
            try {
                ApplianceProcess.Usage u = app.usage();
                samples.add(new long[] {(System.nanoTime() - t) / 1_000_000_000L, u.rssBytes(), app.databaseBytes(),
                        Math.round((u.cpuSeconds() - applianceCpu) * 1000), (os.getProcessCpuTime() - generatorCpu) / 1_000_000,
                        ops.getAsInt()});
            } catch (Exception e) {
                // the appliance is restarting: no sample this time
            }
        }, SAMPLE_SECONDS, SAMPLE_SECONDS, TimeUnit.SECONDS);
        try {
            body.run();
        } finally {
            sampler.shutdownNow();
        }
        double wall = (System.nanoTime() - t) / 1e9;
        ApplianceProcess.Usage after = app.usage();
        double generatorCpuSeconds = (os.getProcessCpuTime() - generatorCpu) / 1e9;
        ApplianceProcess.Usage generator = ApplianceProcess.usage(ProcessHandle.current(), 0);
        long heapUsed = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        // What the generator holds (devices, their lists and sessions), after the phase's CPU and time are read.
        System.gc();
        long heapLive = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        return new Phase(wall, after.cpuSeconds() - applianceCpu, generatorCpuSeconds, after, heapUsed, heapLive,
                generator, ManagementFactory.getThreadMXBean().getThreadCount(), List.copyOf(samples));
    }
}
