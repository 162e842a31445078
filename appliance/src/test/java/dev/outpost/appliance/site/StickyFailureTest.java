package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.agent.attest.Attester;
import dev.outpost.agent.config.AgentConfig;
import dev.outpost.agent.enroll.DeviceTpm;
import dev.outpost.agent.mqtt.ApplianceClient;
import dev.outpost.appliance.cli.ApplianceCli;
import dev.outpost.ima.list.ImaEntry;
import dev.outpost.ima.list.ImaListWriter;
import dev.outpost.mqtt.protocol.Challenge;
import dev.outpost.mqtt.protocol.ChallengeRequest;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.ProtocolException;
import dev.outpost.mqtt.protocol.Verdict;
import dev.outpost.sim.BootProfile;
import dev.outpost.sim.GoodPolicies;
import dev.outpost.sim.SimulatedKernel;
import dev.outpost.testkit.CliRun;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.tpm.keys.AkTemplate;
import dev.outpost.tpm.keys.EkTemplate;
import dev.outpost.tpm.wire.PcrSelection;

/**
 * Failure sticks: a failed device stays failed through an honest attestation, a reconnect with its still-valid SVID,
 * a reboot and a re-enrollment, until an operator clears it; failures that leave no trace in the PCRs (a narrowed
 * quote, a withheld boot log, a truncated IMA list) stick like any other.
 */
@ExtendWith(SwtpmExtension.class)
class StickyFailureTest {
    private static final PcrSelection PCRS = PcrSelection.parse("sha256:0,1,2,3,4,5,6,7,8,9,10");

    @Test
    void failuresWithoutAPcrTraceStickThroughHonestEvidenceReconnectRebootAndReEnrollment(Swtpm swtpm,
            @TempDir Path dir) throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(swtpm::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        kernel.measure("/usr/bin/app", "app".getBytes(StandardCharsets.UTF_8));
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));
        // No measured-boot policy: the boot log must still be sent and replay.
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                .attestEvery(Duration.ofSeconds(1), Duration.ofSeconds(60))) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            String id = site.trustWithPolicy(swtpm, dir.resolve("runtime.json"));
            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "rsa", dir.resolve("securityfs"));
            SiteHarness.Running agent = site.startAgent(config);
            await("trusted", Duration.ofSeconds(60), () -> "trusted".equals(SiteAttestationTest.state(site, id)));
            SiteHarness.stopAgent(agent);
            DeviceTpm tpm = new DeviceTpm(swtpm.uri(), EkTemplate.RSA_2048, AkTemplate.RSA_2048, config.stateDir());

            // 1. A quote over fewer PCRs than asked: failed; an honest attestation right after is refused.
            try (ApplianceClient c = connect(site, config)) {
                Challenge ch = challenge(c);
                PcrSelection narrow = PcrSelection.parse("sha256:10");
                Verdict v = Attester.send(c, ch, tpm.quote(nonce(ch), narrow), narrow, list(kernel, ch), boot(kernel, ch),
                        null);
                assertThat(v.state()).isEqualTo("failed");
                assertThat(String.join(" ", v.reasons())).contains("quote.SELECTION_MISMATCH");
                assertThatThrownBy(() -> challenge(c)).isInstanceOfSatisfying(ProtocolException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.ATTESTATION_FAILED));
            }
            // ... and its still-valid SVID no longer opens a connection.
            assertThatThrownBy(() -> connect(site, config)).isInstanceOf(MqttException.class);
            // ... nor does a reboot and the agent attesting from entry 0.
            kernel.reboot(swtpm::reboot);
            SiteHarness.Running rebooted = site.startAgent(config);
            Thread.sleep(4000);
            assertThat(SiteAttestationTest.state(site, id)).isEqualTo("failed");
            assertThat(rebooted.daemon().verdict()).as("never judged again").isNull();
            SiteHarness.stopAgent(rebooted);
            // ... nor enrolling again (the agent lost its identity).
            Files.deleteIfExists(config.stateDir().resolve("svid.pem"));
            Files.deleteIfExists(config.stateDir().resolve("node.key"));
            SiteHarness.Running reEnrolling = site.startAgent(config);
            Thread.sleep(4000);
            assertThat(SiteHarness.hasIdentity(config)).as("no new identity by enrolling").isFalse();
            assertThat(SiteAttestationTest.state(site, id)).isEqualTo("failed");
            SiteHarness.stopAgent(reEnrolling);

            // The operator clears it: a full attestation makes it trusted again.
            clear(site, id);
            SiteHarness.Running cleared = site.startAgent(config);
            await("trusted after clear", Duration.ofSeconds(60), () -> "trusted".equals(SiteAttestationTest.state(site, id)));
            SiteHarness.stopAgent(cleared);

            // 2. The boot log withheld when asked for (no measured-boot policy assigned): failed.
            clear(site, id);
            try (ApplianceClient c = connect(site, config)) {
                Challenge ch = challenge(c);
                assertThat(ch.wantBootLog()).isTrue();
                Verdict v = Attester.send(c, ch, tpm.quote(nonce(ch), PCRS), PCRS, list(kernel, ch), new byte[0], null);
                assertThat(v.state()).isEqualTo("failed");
                assertThat(String.join(" ", v.reasons())).contains("boot.log.missing");
                assertThatThrownBy(() -> challenge(c)).isInstanceOf(ProtocolException.class);
            }

            // 3. An IMA list cut short of what the quote covers: failed, and it sticks.
            clear(site, id);
            try (ApplianceClient c = connect(site, config)) {
                Challenge ch = challenge(c);
                List<ImaEntry> entries = kernel.entries();
                ByteArrayOutputStream cut = new ByteArrayOutputStream();
                for (ImaEntry e : entries.subList(0, entries.size() - 1)) {
                    ImaListWriter.writeBinary(cut, e);
                }
                Verdict v = Attester.send(c, ch, tpm.quote(nonce(ch), PCRS), PCRS, cut.toByteArray(), boot(kernel, ch), null);
                assertThat(v.state()).isEqualTo("failed");
                assertThatThrownBy(() -> challenge(c)).isInstanceOfSatisfying(ProtocolException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.ATTESTATION_FAILED));
            }
            assertThat(SiteAttestationTest.state(site, id)).isEqualTo("failed");

            // 4. Revoked by the operator: its SVID opens no connection either, and clearing does not lift it.
            clear(site, id);
            SiteHarness.Running last = site.startAgent(config);
            await("trusted once more", Duration.ofSeconds(60), () -> "trusted".equals(SiteAttestationTest.state(site, id)));
            SiteHarness.stopAgent(last);
            assertThat(cli("device", "revoke", id, "--socket", site.adminSocket().toString()).exitCode()).isZero();
            assertThatThrownBy(() -> connect(site, config)).isInstanceOf(MqttException.class);
            assertThat(cli("device", "clear", id, "--socket", site.adminSocket().toString()).exitCode()).isNotZero();
            assertThat(SiteAttestationTest.state(site, id)).isEqualTo("revoked");
        }
    }

    @Test
    void aFailedDeviceStaysOutAfterTheApplianceRestarts(Swtpm swtpm, @TempDir Path dir) throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(swtpm::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                .attestEvery(Duration.ofSeconds(1), Duration.ofSeconds(60))) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            String id = site.trustWithPolicy(swtpm, dir.resolve("runtime.json"));
            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "rsa", dir.resolve("securityfs"));
            SiteHarness.Running agent = site.startAgent(config);
            await("trusted", Duration.ofSeconds(60), () -> "trusted".equals(SiteAttestationTest.state(site, id)));
            kernel.measureUnlisted("/tmp/implant", "x".getBytes(StandardCharsets.UTF_8));
            await("failed", Duration.ofSeconds(30), () -> "failed".equals(SiteAttestationTest.state(site, id)));
            SiteHarness.stopAgent(agent);

            site.stopAppliance();
            site.startAppliance();
            assertThatThrownBy(() -> connect(site, config)).as("the quarantine is rebuilt from the store")
                    .isInstanceOf(MqttException.class);
        }
    }

    @Test
    void aDeviceFloodingRefusedRequestsIsRateLimitedAndAuditedAsACount(Swtpm swtpm, @TempDir Path dir) throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(swtpm::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                .attestEvery(Duration.ofSeconds(30), Duration.ofSeconds(120))) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            String id = site.trustWithPolicy(swtpm, dir.resolve("runtime.json"));
            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "rsa", dir.resolve("securityfs"));
            SiteHarness.Running agent = site.startAgent(config);
            await("trusted", Duration.ofSeconds(60), () -> "trusted".equals(SiteAttestationTest.state(site, id)));
            SiteHarness.stopAgent(agent);
            long before = lastAuditId(site, id);

            int refused = 0;
            int limited = 0;
            long started = System.nanoTime();
            try (ApplianceClient c = connect(site, config)) {
                String bogus = Codec.base64(new byte[32]);
                // More than the bucket holds (1,200) plus what it refills (10/s) however slowly this machine runs.
                for (int i = 0; i < 2500; i++) {
                    try {
                        c.request(Kind.EVIDENCE, new dev.outpost.mqtt.protocol.EvidenceRequest(1, bogus, 0, false, null,
                                null, "AA==", "AA==", "AA==", null), Verdict.class);
                    } catch (ProtocolException e) {
                        if (e.code() == ErrorCode.RATE_LIMITED) {
                            limited++;
                        } else {
                            refused++;
                        }
                    }
                }
            }
            assertThat(refused).as("refused by the appliance").isPositive();
            assertThat(limited).as("the rest never reached it").isPositive();
            long minutes = Duration.ofNanos(System.nanoTime() - started).toMinutes();
            // Alike = same error code: refusals of other codes (the evidence budget's RATE_LIMITED, say) are bursts
            // of their own. A burst stores its first row, then one summary per window that ended.
            java.util.Map<String, List<String>> byCode = new java.util.TreeMap<>();
            for (com.fasterxml.jackson.databind.JsonNode row : auditSince(site, id, before)) {
                if ("evidence".equals(row.path("action").asText())) {
                    String reason = row.path("reason").asText();
                    byCode.computeIfAbsent(reason.startsWith("refused ") ? "summary" : reason.split(":")[0],
                            k -> new java.util.ArrayList<>()).add(reason);
                }
            }
            assertThat(byCode).as("the burst was audited").isNotEmpty();
            long firsts = byCode.entrySet().stream().filter(e -> !e.getKey().equals("summary"))
                    .mapToLong(e -> e.getValue().size()).sum();
            int codes = (int) byCode.keySet().stream().filter(k -> !k.equals("summary")).count();
            assertThat(firsts).as("a burst of alike refusals is one row a minute: %s", byCode)
                    .isBetween(1L, (long) codes * (1 + minutes + 1));
        }
    }

    private static List<com.fasterxml.jackson.databind.JsonNode> auditSince(SiteHarness site, String id, long after)
            throws Exception {
        String body = new dev.outpost.appliance.admin.AdminClient(site.adminSocket())
                .get("/v1/audit?device=" + id + "&limit=1000").body();
        List<com.fasterxml.jackson.databind.JsonNode> out = new java.util.ArrayList<>();
        new com.fasterxml.jackson.databind.ObjectMapper().readTree(body).forEach(row -> {
            if (row.path("id").asLong() > after) {
                out.add(row);
            }
        });
        return out;
    }

    private static long lastAuditId(SiteHarness site, String id) throws Exception {
        return auditSince(site, id, -1).stream().mapToLong(r -> r.path("id").asLong()).max().orElse(0);
    }

    private static void clear(SiteHarness site, String id) {
        assertThat(cli("device", "clear", id, "--socket", site.adminSocket().toString()).exitCode()).isZero();
    }

    private static Challenge challenge(ApplianceClient c) throws Exception {
        return c.request(Kind.CHALLENGE, new ChallengeRequest(1), Challenge.class);
    }

    private static byte[] list(SimulatedKernel kernel, Challenge ch) throws Exception {
        return ch.imaOffset() == 0 ? Files.readAllBytes(kernel.binaryRuntimeMeasurements()) : new byte[0];
    }

    private static byte[] boot(SimulatedKernel kernel, Challenge ch) throws Exception {
        return ch.wantBootLog() ? Files.readAllBytes(kernel.bootLog()) : new byte[0];
    }

    private static CliRun cli(String... args) {
        return CliRun.run(ApplianceCli::commandLine, args);
    }

    private static ApplianceClient connect(SiteHarness site, AgentConfig config) throws Exception {
        return SiteHarness.connectWithSvid(site, config);
    }

    private static byte[] nonce(Challenge ch) throws ProtocolException {
        return Codec.base64(ch.nonce(), "nonce", 64);
    }
}
