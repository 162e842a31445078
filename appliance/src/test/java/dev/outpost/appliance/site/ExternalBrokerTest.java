package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.appliance.ca.TrustBundle;
import dev.outpost.mqtt.protocol.BrokerClientIds;
import dev.outpost.sim.BootProfile;
import dev.outpost.sim.GoodPolicies;
import dev.outpost.sim.SimulatedKernel;
import dev.outpost.testkit.Mosquitto;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.tpm.keys.Pem;

/**
 * External broker mode: a real Mosquitto with the shipped configuration (TLS, SVID client certificates, per-device
 * ACLs) between devices and the appliance; enrollment, attestation and revocation work the same through it.
 */
@ExtendWith(SwtpmExtension.class)
class ExternalBrokerTest {

    @Test
    void enrollAttestAndRevokeThroughMosquitto(Swtpm swtpm, @TempDir Path dir) throws Exception {
        // The site CA exists before the broker: it signs the broker's certificate and the broker trusts its SVIDs.
        SiteCa ca = SiteCa.loadOrCreate(dir.resolve("data/ca"), SiteHarness.TRUST_DOMAIN, "test-site",
                Duration.ofDays(365), Clock.systemUTC());
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair server = g.generateKeyPair();
        Files.writeString(dir.resolve("bundle.pem"), TrustBundle.of(ca).pem());
        Files.writeString(dir.resolve("broker.pem"), Pem.certificate(ca.issueServerCertificate(server.getPublic(),
                List.of("localhost", "127.0.0.1"), Duration.ofDays(1))));
        Files.writeString(dir.resolve("broker.key"), Pem.encode("PRIVATE KEY", server.getPrivate().getEncoded()));

        SimulatedKernel kernel = new SimulatedKernel(swtpm::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        kernel.measure("/usr/bin/outpost-agent", "agent".getBytes(StandardCharsets.UTF_8));
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));

        try (Mosquitto broker = Mosquitto.start(dir.resolve("mosquitto"), dir.resolve("bundle.pem"),
                dir.resolve("broker.pem"), dir.resolve("broker.key"));
             SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                     .attestEvery(Duration.ofSeconds(3), Duration.ofSeconds(20))
                     .viaBroker(broker.mtlsUri(), broker.mtlsPort(), broker.enrollPort())) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            String deviceId = site.trustWithPolicy(swtpm, dir.resolve("runtime.json"));
            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "ecc", dir.resolve("securityfs"));
            SiteHarness.Running agent = site.startAgent(config);
            await("trusted via the broker", Duration.ofSeconds(90),
                    () -> "trusted".equals(SiteAttestationTest.state(site, deviceId)));
            assertThat(agent.daemon().status()).isEqualTo("connected");

            // Any client on the enrollment listener may read the site broadcasts, with an id the broker accepts there.
            try (RawMqtt watcher = new RawMqtt(broker.enrollPort(), BrokerClientIds.fresh(), dir.resolve("bundle.pem"))) {
                watcher.subscribe(watcher.topics().siteRevocations());
                kernel.measureUnlisted("/tmp/implant", "x".getBytes(StandardCharsets.UTF_8));
                await("failed", Duration.ofSeconds(30), () -> "failed".equals(SiteAttestationTest.state(site, deviceId)));
                byte[] event = watcher.next(Duration.ofSeconds(10));
                assertThat(event).as("revocation event through the broker").isNotNull();
                assertThat(new String(Base64.getDecoder().decode(new ObjectMapper().readTree(event).path("event").asText()),
                        StandardCharsets.UTF_8)).contains(deviceId).contains("/tmp/implant");
            }
            // The broker lets its still-valid SVID in; the appliance refuses every request until an operator clears
            // it, and the agent, refused, keeps its distance.
            await("refused while failed", Duration.ofSeconds(60),
                    () -> "refused: ATTESTATION_FAILED".equals(agent.daemon().status()));
            assertThat(SiteAttestationTest.state(site, deviceId)).isEqualTo("failed");
        }
    }
}
