package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.Response;
import dev.outpost.sim.BootProfile;
import dev.outpost.sim.GoodPolicies;
import dev.outpost.sim.SimulatedKernel;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;

/**
 * /metrics after what a site does: a device enrolls and attests, a client sends garbage, the device fails
 * attestation. Every domain series is asserted by value from a real scrape.
 */
@ExtendWith(SwtpmExtension.class)
class MetricsTest {

    @Test
    void scrapeAfterEnrollmentAttestationAndFailure(Swtpm swtpm, @TempDir Path dir) throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(swtpm::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        kernel.measure("/usr/bin/outpost-agent", "agent".getBytes(StandardCharsets.UTF_8));
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                .attestEvery(Duration.ofSeconds(3), Duration.ofSeconds(30))) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            Monitoring mon = new Monitoring(site.appliance().metricsPort());
            Map<String, Double> before = mon.metrics();
            assertThat(before).containsEntry("outpost_attestations_total{result=\"failed\"}", 0.0)
                    .containsEntry("outpost_enrollments_total{outcome=\"accepted\",step=\"enroll\"}", 0.0)
                    .containsEntry("outpost_devices{state=\"trusted\"}", 0.0);

            String id = site.trustWithPolicy(swtpm, dir.resolve("runtime.json"));
            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "ecc", dir.resolve("securityfs"));
            site.startAgent(config);
            await("trusted", Duration.ofSeconds(90), () -> "trusted".equals(SiteAttestationTest.state(site, id)));

            // One refusal of a known cause on the device transport.
            try (RawMqtt raw = new RawMqtt(site.mqttPort(), RawMqtt.ids().get(0), site.caPem())) {
                Response r = raw.send(raw.topics().request(RawMqtt.ids().get(0), Kind.ENROLL),
                        "\u0000\u00ff garbage".getBytes(StandardCharsets.ISO_8859_1));
                assertThat(r.error()).isEqualTo(ErrorCode.BAD_REQUEST);
            }

            kernel.measureUnlisted("/tmp/implant", "x".getBytes(StandardCharsets.UTF_8));
            await("failed", Duration.ofSeconds(60), () -> "failed".equals(SiteAttestationTest.state(site, id)));
            // Devices by state are counted on a timer: wait for the count that follows the failure.
            await("device count refreshed", Duration.ofSeconds(60),
                    () -> value(mon, "outpost_devices{state=\"failed\"}") == 1.0);

            Map<String, Double> m = mon.metrics();
            assertThat(m).containsEntry("outpost_devices{state=\"failed\"}", 1.0)
                    .containsEntry("outpost_devices{state=\"trusted\"}", 0.0)
                    .containsEntry("outpost_enrollments_total{outcome=\"accepted\",step=\"enroll\"}", 1.0)
                    .containsEntry("outpost_enrollments_total{outcome=\"accepted\",step=\"activate\"}", 1.0)
                    .containsEntry("outpost_attestations_total{result=\"failed\"}", 1.0)
                    .containsEntry("outpost_requests_rejected_total{code=\"bad_request\"}", 1.0)
                    .containsEntry("outpost_evidence_buffered_bytes", 0.0);
            double trusted = m.get("outpost_attestations_total{result=\"trusted\"}");
            double pending = m.get("outpost_attestations_total{result=\"pending\"}");
            assertThat(trusted).isGreaterThanOrEqualTo(1.0);
            // Every verdict was timed, and nothing else was.
            assertThat(m.get("outpost_attestation_verification_seconds_count")).isEqualTo(trusted + pending + 1.0);
            assertThat(m.get("outpost_attestation_verification_seconds_sum")).isGreaterThan(0.0);
            assertThat(m.get("outpost_attestation_verification_seconds_bucket{le=\"+Inf\"}")).isEqualTo(trusted + pending + 1.0);
            // The implant fails the IMA check: one failed verdict with an IMA reason class, the class as the label.
            Map<String, Double> failedReasons = new java.util.TreeMap<>();
            m.forEach((k, v) -> {
                if (k.startsWith("outpost_attestation_reasons_total{") && k.contains("result=\"failed\"")) {
                    failedReasons.put(k, v);
                }
            });
            assertThat(failedReasons).isNotEmpty();
            assertThat(failedReasons.keySet()).allMatch(k -> k.contains("reason=\"ima."), "IMA reasons only");
            assertThat(failedReasons.values()).allMatch(v -> v == 1.0);
            assertThat(m.get("outpost_requests_total{kind=\"evidence\"}")).isGreaterThanOrEqualTo(2.0);
            assertThat(m.get("outpost_ca_expiry_remaining_seconds"))
                    .isGreaterThan(Duration.ofDays(89).toSeconds()).isLessThanOrEqualTo(Duration.ofDays(90).toSeconds());
            // The JVM's own series: the heap, collections (their pauses once one happened), threads, CPU, open files.
            assertThat(m.keySet()).anyMatch(k -> k.startsWith("jvm_memory_used_bytes{area=\"heap\""));
            assertThat(m).containsKeys("jvm_gc_memory_allocated_bytes_total", "jvm_threads_live_threads",
                    "process_cpu_usage", "process_uptime_seconds", "process_files_open_files");
            assertThat(m.get("jvm_gc_memory_allocated_bytes_total")).isGreaterThan(0.0);
            // A fresh 90-day CA: nothing to rotate yet.
            assertThat(m.get("outpost_ca_rotation_state{state=\"none\"}")).isEqualTo(1.0);
            assertThat(m.get("outpost_ca_rotation_state{state=\"retrying\"}")).isEqualTo(0.0);
        }
    }

    private static double value(Monitoring mon, String series) {
        try {
            return mon.metrics().getOrDefault(series, -1.0);
        } catch (Exception e) {
            return -1.0;
        }
    }
}
