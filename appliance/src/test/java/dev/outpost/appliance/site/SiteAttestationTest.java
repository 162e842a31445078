package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Signature;
import java.time.Duration;
import java.util.Base64;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.agent.cli.AgentCli;
import dev.outpost.agent.config.AgentConfig;
import dev.outpost.agent.state.AgentState;
import dev.outpost.appliance.admin.AdminClient;
import dev.outpost.appliance.cli.ApplianceCli;
import dev.outpost.sim.BootProfile;
import dev.outpost.sim.GoodPolicies;
import dev.outpost.sim.SimulatedKernel;
import dev.outpost.testkit.CliRun;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;

/** Continuous attestation end to end: a device on a simulated kernel is trusted, renews, is caught tampering. */
@ExtendWith(SwtpmExtension.class)
class SiteAttestationTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void trustedDeviceRenewsThroughAttestationAndIsCaughtWhenItRunsAnUnknownFile(Swtpm swtpm, @TempDir Path dir)
            throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(swtpm::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        kernel.measure("/usr/bin/outpost-agent", "agent".getBytes(StandardCharsets.UTF_8));
        kernel.measure("/usr/lib/libc.so.6", "libc".getBytes(StandardCharsets.UTF_8));
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));
        Files.write(dir.resolve("boot.json"), GoodPolicies.bootPolicyJson(kernel));

        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofMinutes(1))
                .attestEvery(Duration.ofSeconds(4), Duration.ofSeconds(20))) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            String socket = site.adminSocket().toString();
            String deviceId = JSON.readTree(CliRun.run(AgentCli::commandLine, "tpm", "ek", "--tpm", swtpm.uri(), "--json")
                    .out()).path("deviceId").asText();
            assertThat(cli("policy", "add", "good-runtime", "--kind", "runtime", "--file", dir.resolve("runtime.json")
                    .toString(), "--socket", socket).exitCode()).isZero();
            assertThat(cli("policy", "add", "good-boot", "--kind", "boot", "--file", dir.resolve("boot.json").toString(),
                    "--socket", socket).exitCode()).isZero();
            assertThat(cli("policy", "assign", "good-runtime", "--label", "line-1", "--socket", socket).exitCode()).isZero();
            assertThat(cli("policy", "assign", "good-boot", "--device", deviceId, "--socket", socket).exitCode()).isZero();

            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "rsa", dir.resolve("securityfs"));
            SiteHarness.Running agent = site.startAgent(config);
            await("enrolled", Duration.ofSeconds(60), () -> SiteHarness.hasIdentity(config));
            // No runtime policy applies yet (it is assigned to a label the device does not carry): pending.
            await("pending", Duration.ofSeconds(30), () -> "pending".equals(agent.daemon().verdict()));
            assertThat(cli("device", "label", deviceId, "line-1", "--socket", socket).exitCode()).isZero();
            await("trusted", Duration.ofSeconds(30), () -> "trusted".equals(agent.daemon().verdict()));
            assertThat(state(site, deviceId)).isEqualTo("trusted");
            String shown = new AdminClient(site.adminSocket()).get("/v1/devices/" + deviceId).body();
            assertThat(shown).contains("tpm:ek-hash:" + deviceId).contains("outpost:state:trusted")
                    .contains("outpost:policy:good-runtime").contains("outpost:policy:good-boot")
                    .contains("outpost:site:test-site");
            assertThat(cli("policy", "list", "--socket", socket).out()).contains("good-runtime").contains("runtime");
            // Real policies are large: a 20,000-path one goes through the admin socket too.
            dev.outpost.ima.policy.RuntimePolicyBuilder big = new dev.outpost.ima.policy.RuntimePolicyBuilder(
                    java.util.List.of(), dev.outpost.tpm.HashAlg.SHA256);
            for (int i = 0; i < 20_000; i++) {
                big.addFile("/usr/lib/pkg/file-" + i,
                        dev.outpost.tpm.HashAlg.SHA256.digest(new byte[] {(byte) i, (byte) (i >> 8)}));
            }
            Files.write(dir.resolve("big.json"), new dev.outpost.ima.policy.RuntimePolicyJson().write(big.build()));
            assertThat(Files.size(dir.resolve("big.json"))).isGreaterThan(1_000_000);
            CliRun bigAdd = cli("policy", "add", "big", "--kind", "runtime", "--file", dir.resolve("big.json").toString(),
                    "--socket", socket);
            assertThat(bigAdd.exitCode()).as(bigAdd.err()).isZero();

            // The node's identity comes with the first passing attestation, replacing the probationary one.
            await("node SVID", Duration.ofSeconds(30), () -> {
                try {
                    return ("spiffe://outpost.test/agent/tpm/" + deviceId).equals(SiteHarness.identity(config).spiffeId());
                } catch (java.io.IOException | NullPointerException e) {
                    return false;
                }
            });
            // Connected with its SVID, the agent follows the retained site bundle (its sequence is on disk).
            await("site bundle taken", Duration.ofSeconds(30), () -> {
                try {
                    return new AgentState(config.stateDir()).bundleSequence() >= 0;
                } catch (java.io.IOException e) {
                    return false;
                }
            });
            // A node SVID lasts ca.svidTtl (1 min here); a passing attestation renews it after half of that.
            BigInteger first = serial(config);
            await("renewed", Duration.ofSeconds(60), () -> !first.equals(serialOrNull(config)));

            // New files the policy allows keep it trusted; incremental verification reads only them.
            try (RawMqtt watcher = new RawMqtt(site.mqttPort(), RawMqtt.ids().get(1), site.caPem())) {
                watcher.subscribe(watcher.topics().siteRevocations());
                kernel.measureUnlisted("/tmp/cryptominer", "evil".getBytes(StandardCharsets.UTF_8));
                await("failed", Duration.ofSeconds(30), () -> "failed".equals(state(site, deviceId)));
                String reasons = new AdminClient(site.adminSocket()).get("/v1/audit?device=" + deviceId + "&limit=50").body();
                assertThat(reasons).contains("not_in_allowlist").contains("/tmp/cryptominer");

                byte[] event = watcher.next(Duration.ofSeconds(10));
                assertThat(event).as("revocation event on the site topic").isNotNull();
                JsonNode signed = JSON.readTree(event);
                byte[] body = Base64.getDecoder().decode(signed.path("event").asText());
                Signature v = Signature.getInstance("SHA256withECDSA");
                v.initVerify(AgentState.certificates(Files.readString(site.caPem())).get(0).getPublicKey());
                v.update(body);
                assertThat(v.verify(Base64.getDecoder().decode(signed.path("signature").asText()))).isTrue();
                JsonNode e = JSON.readTree(body);
                assertThat(e.path("deviceId").asText()).isEqualTo(deviceId);
                assertThat(e.path("reason").asText()).contains("not_in_allowlist");
            }
            await("disconnected", Duration.ofSeconds(20), () -> !"connected".equals(agent.daemon().status())
                    || !"trusted".equals(agent.daemon().verdict()));

            // An operator clears the device after review; it must prove everything again and, still running the
            // unknown file, fails again.
            assertThat(cli("device", "clear", deviceId, "--socket", socket).exitCode()).isZero();
            assertThat(state(site, deviceId)).isEqualTo("pending");
            assertThat(new AdminClient(site.adminSocket()).get("/v1/audit?device=" + deviceId + "&limit=50").body())
                    .as("the clear is in the audit log, with who did it").contains("full re-attestation required")
                    .contains("\"detail\" : \"operator\"");
        }
    }

    @Test
    void aDeviceThatStopsAttestingTurnsStaleAndLosesItsIdentity(Swtpm swtpm, @TempDir Path dir) throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(swtpm::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));
        // The site's webhook receiver, down (503) when the revocation comes: the event waits and arrives later.
        com.sun.net.httpserver.HttpServer receiver = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        java.util.concurrent.atomic.AtomicInteger tries = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.BlockingQueue<byte[]> hooked = new java.util.concurrent.LinkedBlockingQueue<>();
        receiver.createContext("/revoked", ex -> {
            byte[] posted = ex.getRequestBody().readAllBytes();
            boolean down = tries.incrementAndGet() == 1;
            if (!down) {
                hooked.add(posted);
            }
            ex.sendResponseHeaders(down ? 503 : 204, -1);
            ex.close();
        });
        receiver.start();
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofMinutes(1))
                .attestEvery(Duration.ofSeconds(2), Duration.ofSeconds(6))
                .extraConfig(String.join("\n", "  webhook:",
                        "    url: http://127.0.0.1:" + receiver.getAddress().getPort() + "/revoked",
                        "    allowInsecureHttp: true"))) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            String deviceId = site.trustWithPolicy(swtpm, dir.resolve("runtime.json"));
            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "rsa", dir.resolve("securityfs"));
            SiteHarness.Running agent = site.startAgent(config);
            await("trusted", Duration.ofSeconds(60), () -> "trusted".equals(state(site, deviceId)));
            try (RawMqtt watcher = new RawMqtt(site.mqttPort(), RawMqtt.ids().get(1), site.caPem())) {
                watcher.subscribe(watcher.topics().siteRevocations());
                SiteHarness.stopAgent(agent);
                await("stale", Duration.ofSeconds(30), () -> "stale".equals(state(site, deviceId)));
                byte[] event = watcher.next(Duration.ofSeconds(10));
                assertThat(event).isNotNull();
                assertThat(new String(Base64.getDecoder().decode(JSON.readTree(event).path("event").asText()),
                        StandardCharsets.UTF_8)).contains(deviceId).contains("stale");
                assertThat(hooked.poll(30, java.util.concurrent.TimeUnit.SECONDS))
                        .as("the same signed event at the webhook, after its first try was refused").isEqualTo(event);
                assertThat(tries.get()).isEqualTo(2);
            }
            // The SVID it holds outlives its last pass by ca.svidTtl (1 min here) at most: staleness was announced
            // above, and the identity itself ends within that minute.
            assertThat(SiteHarness.identity(config).notAfter())
                    .isBefore(java.time.Instant.now().plus(Duration.ofSeconds(61)));
        } finally {
            receiver.stop(0);
        }
    }

    private static CliRun cli(String... args) {
        return CliRun.run(ApplianceCli::commandLine, args);
    }

    static String state(SiteHarness site, String deviceId) {
        try {
            return JSON.readTree(new AdminClient(site.adminSocket()).get("/v1/devices/" + deviceId).body())
                    .path("state").asText();
        } catch (java.io.IOException e) {
            return null;
        }
    }

    private static BigInteger serial(AgentConfig c) throws java.io.IOException {
        return SiteHarness.identity(c).leaf().getSerialNumber();
    }

    private static BigInteger serialOrNull(AgentConfig c) {
        try {
            return serial(c);
        } catch (java.io.IOException | NullPointerException e) {
            return null;
        }
    }
}
