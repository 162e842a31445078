package dev.outpost.agent.workload;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import dev.outpost.mqtt.protocol.WorkloadEntry;

/**
 * The agent's Workload API alone in a JVM, for {@link WorkloadApiMemoryBench}: the appliance side is
 * {@link TestAppliance}. One entry for the caller's uid (what the client processes match), and N more that no caller
 * matches, whose SVIDs "hold" fetches (N distinct workloads' keys and SVIDs held). Commands on stdin:
 * {@code hold}, {@code measure LABEL} (prints heap after GC and resident memory), {@code quit}.
 */
public final class WorkloadApiBenchServer {
    private WorkloadApiBenchServer() {
    }

    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        int n = Integer.parseInt(args[1]);
        int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        TestAppliance appliance = new TestAppliance(Clock.systemUTC());
        List<WorkloadEntry> entries = new ArrayList<>();
        entries.add(TestAppliance.entry("e-clients", "/bench/clients", List.of("unix:uid:" + uid)));
        for (int i = 0; i < n; i++) {
            entries.add(TestAppliance.entry("e-" + i, "/bench/w" + i, List.of("bench:" + i)));
        }
        appliance.entries = entries;
        WorkloadApi api = WorkloadApi.start(new WorkloadApi.Settings(socket, Path.of("/proc"), Path.of("/etc/passwd"),
                Path.of("/etc/group"), socket.resolveSibling("no-ima"), 256L * 1024 * 1024, Duration.ofSeconds(5), Duration.ofSeconds(5)),
                TestAppliance.TD, appliance, appliance::bundles, Clock.systemUTC());
        api.identities().refreshEntries();
        System.out.println("ready");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        for (String line; (line = in.readLine()) != null; ) {
            if (line.equals("hold")) {
                for (int i = 0; i < n; i++) {
                    api.identities().x509For(new WorkloadAttestor.Workload(Set.of("bench:" + i), null, null, false));
                }
                System.out.println("held " + n);
            } else if (line.startsWith("measure ")) {
                for (int i = 0; i < 3; i++) {
                    System.gc();
                    Thread.sleep(200);
                }
                long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
                long rss = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmRSS:"))
                        .map(l -> Long.parseLong(l.replaceAll("[^0-9]", ""))).findFirst().orElse(-1L);
                long threads = Thread.activeCount();
                System.out.printf("BENCH %s heapAfterGcKiB=%d rssKiB=%d streams=%d threads=%d%n",
                        line.substring(8), heap / 1024, rss, api.identities().subscribers(), threads);
            } else if (line.equals("quit")) {
                break;
            }
        }
        api.close();
        System.exit(0);
    }
}
