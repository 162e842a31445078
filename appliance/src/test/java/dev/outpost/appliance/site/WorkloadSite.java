package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.sim.BootProfile;
import dev.outpost.sim.GoodPolicies;
import dev.outpost.sim.SimulatedKernel;
import dev.outpost.testkit.Swtpm;

/**
 * A site for the Workload API tests: an appliance attesting every 3 s, a device on swtpm with a simulated kernel and
 * a runtime policy assigned, and (once the test made its entries) the real agent with {@code workloadApi.enabled}
 * on a socket in a directory other uids can reach.
 */
final class WorkloadSite {
    static final Duration INTERVAL = Duration.ofSeconds(3);

    private WorkloadSite() {
    }

    record Running(SiteHarness site, SimulatedKernel kernel, String deviceId, AgentConfig config, Path socket,
            SiteHarness.Running[] holder) implements AutoCloseable {
        String address() {
            return "unix:" + socket;
        }

        /** Starts the agent and waits until it is trusted, holds its node SVID and serves the Workload API. */
        SiteHarness.Running startAgent() throws InterruptedException {
            SiteHarness.Running a = site.startAgent(config);
            holder[0] = a;
            await("trusted with its node SVID, the Workload API up", Duration.ofSeconds(90),
                    () -> "trusted".equals(a.daemon().verdict()) && a.daemon().workloadApi() != null
                            && Files.exists(socket) && nodeSvid());
            // The node SVID came with a verdict on the probationary session, after which the agent reconnects with
            // it (no session meanwhile: a first fetch is Unavailable). A verdict after that one is on the new session.
            java.time.Instant first = a.daemon().lastVerdictAt();
            await("a verdict on the session with the node SVID", Duration.ofSeconds(60),
                    () -> a.daemon().lastVerdictAt().isAfter(first) && "connected".equals(a.daemon().status()));
            return a;
        }

        SiteHarness.Running agent() {
            return holder[0];
        }

        private boolean nodeSvid() {
            try {
                return ("spiffe://outpost.test/agent/tpm/" + deviceId).equals(SiteHarness.identity(config).spiffeId());
            } catch (IOException | NullPointerException e) {
                return false;
            }
        }

        @Override
        public void close() throws InterruptedException {
            site.close();
        }
    }

    /** @param measured files the device's (simulated) IMA has measured, and its runtime policy allows, at their path */
    static Running start(Swtpm swtpm, Path dir, Path socket, Path... measured) throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(swtpm::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        for (Path m : measured) {
            kernel.measure(m.toString(), Files.readAllBytes(m));
        }
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));
        SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1)).attestEvery(INTERVAL, Duration.ofMinutes(5));
        try {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            String deviceId = site.trustWithPolicy(swtpm, dir.resolve("runtime.json"));
            site.agentConfig(swtpm, "agent", "rsa2048", "ecc", dir.resolve("securityfs"));
            Path yaml = dir.resolve("agent.yaml");
            Files.writeString(yaml, Files.readString(yaml) + "workloadApi:\n  enabled: true\n  socket: " + socket + "\n");
            return new Running(site, kernel, deviceId, AgentConfig.load(yaml), socket, new SiteHarness.Running[1]);
        } catch (Exception | AssertionError e) {
            site.close();
            throw e;
        }
    }

    /** A directory under /tmp that other uids may enter (JUnit's temporary directories are 0700). */
    static Path socketDir() throws IOException {
        Path d = Files.createTempDirectory("outpost-wl");
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
        return d;
    }

    static void delete(Path d) throws IOException {
        if (Files.exists(d)) {
            try (var walk = Files.walk(d)) {
                for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}
