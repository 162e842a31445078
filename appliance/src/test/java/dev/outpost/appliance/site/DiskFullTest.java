package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.sim.BootProfile;
import dev.outpost.sim.GoodPolicies;
import dev.outpost.sim.SimulatedKernel;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;

/**
 * A gateway's disk fills up under a running site (a real filesystem of a few MiB, filled by a file): the appliance
 * says not ready and why, keeps its process, and works again by itself once space is freed; what it had committed
 * is still there.
 */
@ExtendWith(SwtpmExtension.class)
class DiskFullTest {
    private Path mounted;

    @Test
    void aFullDiskIsNotReadyWithTheReasonAndTheSiteRecoversWhenSpaceIsFreed(Swtpm swtpm, @TempDir Path dir)
            throws Exception {
        Path small = dir.resolve("small");
        Files.createDirectories(small);
        mounted = mount(small, "48m");
        SimulatedKernel kernel = new SimulatedKernel(swtpm::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        kernel.measure("/usr/bin/app", "app".getBytes(StandardCharsets.UTF_8));
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));
        try (SiteHarness site = new SiteHarness(small, "cert", Duration.ofHours(1))
                .attestEvery(Duration.ofSeconds(1), Duration.ofMinutes(10))) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            String id = site.trustWithPolicy(swtpm, dir.resolve("runtime.json"));
            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "rsa", dir.resolve("securityfs"));
            SiteHarness.Running agent = site.startAgent(config);
            await("trusted", Duration.ofSeconds(60), () -> "trusted".equals(SiteAttestationTest.state(site, id)));
            Monitoring mon = new Monitoring(site.appliance().metricsPort());

            // The disk fills up; the device keeps attesting, running its known program again and again, so there is
            // always a new entry to verify and state to write.
            Path filler = small.resolve("filler");
            fill(filler);
            for (int i = 0; i < 5; i++) {
                kernel.measure("/usr/bin/app", "app".getBytes(StandardCharsets.UTF_8));
            }
            await("not ready: database", Duration.ofSeconds(90), () -> reason(mon, "database") != null);
            assertThat(mon.ready().status()).isEqualTo(503);
            assertThat(mon.live()).as("the process stays up").isEqualTo(200);

            Files.delete(filler);
            await("ready again", Duration.ofSeconds(120), () -> status(mon) == 200);
            await("the device attests again", Duration.ofSeconds(60),
                    () -> "trusted".equals(SiteAttestationTest.state(site, id)));
            SiteHarness.stopAgent(agent);
        }
    }

    @AfterEach
    void unmount() throws Exception {
        if (mounted != null) {
            run("umount", "-l", mounted.toString());
        }
    }

    private static Path mount(Path dir, String size) throws Exception {
        int rc = run("mount", "-t", "tmpfs", "-o", "size=" + size + ",mode=0700", "tmpfs", dir.toString());
        Assumptions.assumeTrue(rc == 0, "cannot mount a small tmpfs here (needs root and CAP_SYS_ADMIN): skipped");
        return dir;
    }

    private static void fill(Path file) throws IOException {
        byte[] block = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(file)) {
            while (true) {
                out.write(block);
            }
        } catch (IOException full) {
            // No space left on device: exactly where the test wants the disk.
        }
    }

    private static int run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
    }

    private static String reason(Monitoring mon, String check) {
        try {
            return mon.ready().reason(check);
        } catch (Exception e) {
            return null;
        }
    }

    private static int status(Monitoring mon) {
        try {
            return mon.ready().status();
        } catch (Exception e) {
            return -1;
        }
    }
}
