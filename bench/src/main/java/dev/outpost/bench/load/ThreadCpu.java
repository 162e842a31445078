package dev.outpost.bench.load;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * CPU time by thread group (a thread's name without its digits), between two snapshots: the generator shares the
 * JVM with the appliance, and this is how the report tells their costs apart. Threads that ended in between are
 * not counted; GC and JIT show as their own groups.
 */
final class ThreadCpu {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private final Map<Long, Long> cpu = new HashMap<>();
    private final Map<Long, String> names = new HashMap<>();

    private ThreadCpu() {
    }

    static ThreadCpu snapshot() {
        ThreadCpu s = new ThreadCpu();
        for (var info : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
            if (info == null) {
                continue;
            }
            long c = THREADS.getThreadCpuTime(info.getThreadId());
            if (c >= 0) {
                s.cpu.put(info.getThreadId(), c);
                s.names.put(info.getThreadId(), info.getThreadName());
            }
        }
        return s;
    }

    /** Seconds of CPU per group from {@code before} to this snapshot, largest first. */
    Map<String, Double> since(ThreadCpu before) {
        Map<String, Double> groups = new HashMap<>();
        cpu.forEach((id, c) -> {
            // Paho names its threads after the client id (the device id): one group for all devices.
            String group = names.get(id).replaceAll("[0-9a-f]{16,}", "<device>").replaceAll("[0-9]+", "#")
                    .replaceAll(" /.*", "");
            groups.merge(group, (c - before.cpu.getOrDefault(id, 0L)) / 1e9, Double::sum);
        });
        Map<String, Double> sorted = new LinkedHashMap<>();
        groups.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                .forEach(e -> sorted.put(e.getKey(), e.getValue()));
        return sorted;
    }

    /** The appliance's own threads: Vert.x event loops and workers, H2's background writer. */
    static boolean appliance(String group) {
        return group.startsWith("vert.x-") || group.contains("MVStore");
    }
}
