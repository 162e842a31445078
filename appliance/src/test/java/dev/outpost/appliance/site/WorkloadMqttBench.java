package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.agent.mqtt.ApplianceClient;
import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.Messages;
import dev.outpost.mqtt.protocol.WorkloadSvidIssued;
import dev.outpost.mqtt.protocol.WorkloadSvidRequest;
import dev.outpost.sim.BootProfile;
import dev.outpost.sim.GoodPolicies;
import dev.outpost.sim.SimulatedKernel;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;

/**
 * Workload X509-SVIDs per second through the appliance's MQTT endpoint (not a surefire default: run it with
 * -Dtest=WorkloadMqttBench): one really enrolled and attested device (swtpm) asks with its node SVID, one request at a
 * time and 8 in flight; each reply is a signed SVID. CSRs are made beforehand, so the figure is the appliance's.
 * Both runs together stay under the endpoint's per-device limit for authenticated requests (1200 per 2 minutes),
 * which bounds what one device can ask for whatever the appliance could sign.
 */
@ExtendWith(SwtpmExtension.class)
class WorkloadMqttBench {
    private static final int CSRS = 64;

    @Test
    void measure(Swtpm swtpm, @TempDir Path dir) throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(swtpm::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        kernel.measure("/usr/bin/web", "web".getBytes(StandardCharsets.UTF_8));
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                .attestEvery(Duration.ofSeconds(5), Duration.ofMinutes(30))) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            String deviceId = site.trustWithPolicy(swtpm, dir.resolve("runtime.json"));
            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "rsa", dir.resolve("securityfs"));
            SiteHarness.Running agent = site.startAgent(config);
            await("trusted", Duration.ofSeconds(90), () -> "trusted".equals(WorkloadSiteTest.state(site, deviceId))
                    && agent.daemon().verdict() != null);
            await("node SVID", Duration.ofSeconds(60), () -> {
                try {
                    return SiteHarness.identity(config).spiffeId().contains("/agent/tpm/");
                } catch (Exception e) {
                    return false;
                }
            });
            SiteHarness.stopAgent(agent);
            String entry = WorkloadSiteTest.entry(site, "--spiffe-id", "spiffe://outpost.test/app/web", "--parent",
                    "tpm:ek-hash:" + deviceId, "--selector", "unix:uid:1000");
            List<String> csrs = new ArrayList<>();
            for (int i = 0; i < CSRS; i++) {
                csrs.add(WorkloadSiteTest.csr(WorkloadSiteTest.p256(), "spiffe://outpost.test/app/web", List.of(), false));
            }
            try (ApplianceClient c = SiteHarness.connectWithSvid(site, config)) {
                for (int round = 0; round < 2; round++) {
                    int n = 300;
                    long t0 = System.nanoTime();
                    for (int i = 0; i < n; i++) {
                        c.request(Kind.WORKLOAD_SVID, new WorkloadSvidRequest(Messages.VERSION, entry, csrs.get(i % CSRS),
                                null, null), WorkloadSvidIssued.class);
                    }
                    report(round, "workload-svid over MQTT (TLS, node SVID), 1 in flight", n, t0);
                }
                ExecutorService pool = Executors.newFixedThreadPool(8);
                try {
                    for (int round = 0; round < 2; round++) {
                        int n = 240;
                        long t0 = System.nanoTime();
                        List<Future<?>> fs = new ArrayList<>();
                        for (int t = 0; t < 8; t++) {
                            int base = t;
                            fs.add(pool.submit(() -> {
                                for (int i = 0; i < n / 8; i++) {
                                    c.request(Kind.WORKLOAD_SVID, new WorkloadSvidRequest(Messages.VERSION, entry,
                                            csrs.get((base + i) % CSRS), null, null), WorkloadSvidIssued.class);
                                }
                                return null;
                            }));
                        }
                        for (Future<?> f : fs) {
                            f.get();
                        }
                        report(round, "workload-svid over MQTT (TLS, node SVID), 8 in flight", n, t0);
                    }
                } finally {
                    pool.shutdownNow();
                }
            }
        }
    }

    private static void report(int round, String what, int n, long t0) {
        double s = (System.nanoTime() - t0) / 1e9;
        if (round == 1) {
            System.out.printf("BENCH %-80s %8.0f /s (%d in %.2f s)%n", what, n / s, n, s);
        }
    }
}
