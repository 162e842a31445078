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
import java.util.List;

import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.agent.state.AgentState;
import dev.outpost.agent.tls.TlsContexts;
import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.appliance.ca.TrustBundle;
import dev.outpost.sim.BootProfile;
import dev.outpost.sim.GoodPolicies;
import dev.outpost.sim.SimulatedKernel;
import dev.outpost.testkit.Mosquitto;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.tpm.keys.Pem;

/**
 * The attack of issue 11 against a real appliance, a real agent and the shipped Mosquitto: an anonymous client on
 * the enrollment listener claims the appliance's old fixed client id, then an enrolled device's id. Mosquitto
 * would close the connection that held the id (logging "already connected, closing old connection") and the
 * victim would have to reconnect; neither may happen, and the site must go on enrolling and attesting.
 */
@ExtendWith(SwtpmExtension.class)
class BrokerTakeoverTest {
    /** Longer than the appliance's first reconnect delay (1 s) and the agent's backoff (1 s and jitter). */
    static final Duration WATCH = Duration.ofSeconds(4);

    @Test
    void anonymousClientsCannotDisplaceTheApplianceOrAnEnrolledDevice(Swtpm swtpm, Swtpm other, @TempDir Path dir)
            throws Exception {
        SiteCa ca = SiteCa.loadOrCreate(dir.resolve("data/ca"), SiteHarness.TRUST_DOMAIN, "test-site",
                Duration.ofDays(365), Clock.systemUTC());
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair server = g.generateKeyPair();
        Files.writeString(dir.resolve("bundle.pem"), TrustBundle.of(ca).pem());
        Files.writeString(dir.resolve("broker.pem"), Pem.certificate(ca.issueServerCertificate(server.getPublic(),
                List.of("localhost", "127.0.0.1"), Duration.ofDays(1))));
        Files.writeString(dir.resolve("broker.key"), Pem.encode("PRIVATE KEY", server.getPrivate().getEncoded()));

        try (Mosquitto broker = Mosquitto.start(dir.resolve("mosquitto"), dir.resolve("bundle.pem"),
                dir.resolve("broker.pem"), dir.resolve("broker.key"));
             SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                     // A long freshness window keeps SVIDs long, so the agent has no reason of its own to reconnect.
                     .attestEvery(Duration.ofSeconds(3), Duration.ofMinutes(10))
                     .viaBroker(broker.mtlsUri(), broker.mtlsPort(), broker.enrollPort())) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            String a = device(site, swtpm, dir.resolve("a"));
            AgentConfig configA = site.agentConfig(swtpm, "agent-a", "rsa2048", "ecc", dir.resolve("a/securityfs"));
            SiteHarness.Running agentA = site.startAgent(configA);
            await("device a trusted via the broker", Duration.ofSeconds(90),
                    () -> "trusted".equals(SiteAttestationTest.state(site, a)));
            // The node SVID comes with the first pass, and the agent reconnects with it: wait for that connection.
            await("device a connected with its node SVID", Duration.ofSeconds(30), () -> {
                try {
                    var id = SiteHarness.identity(configA);
                    return id != null && !id.probationary() && "connected".equals(agentA.daemon().status());
                } catch (java.io.IOException e) {
                    return false;
                }
            });
            // Settle: after a quiet spell, the connections in place are the ones that must survive.
            await("no more reconnects of the appliance or device a", Duration.ofSeconds(60), () -> {
                int m = broker.logMark();
                try {
                    Thread.sleep(WATCH.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return !broker.awaitLog(m, " as " + a + " ", Duration.ZERO)
                        && !broker.awaitLog(m, " as outpost-appliance ", Duration.ZERO);
            });

            int mark = broker.logMark();
            for (String claimed : new String[] {"outpost-appliance", a}) {
                try (Thief t = Thief.connect(broker.enrollPort(), claimed, dir.resolve("bundle.pem"))) {
                    Thread.sleep(WATCH.toMillis() / 2);
                }
            }
            assertThat(broker.awaitLog(mark, "already connected", WATCH))
                    .as("a connection was closed for a client id an anonymous client claimed:\n%s", broker.log())
                    .isFalse();
            // Nor did anyone reconnect in its place (the line Mosquitto logs for every new connection).
            assertThat(broker.awaitLog(mark, " as outpost-appliance ", Duration.ZERO))
                    .as("appliance reconnected:\n%s", broker.log()).isFalse();
            assertThat(broker.awaitLog(mark, " as " + a + " ", Duration.ZERO))
                    .as("device reconnected:\n%s", broker.log()).isFalse();
            assertThat(agentA.daemon().status()).isEqualTo("connected");

            // The appliance kept serving: a second device enrolls and passes its first attestation right now.
            String b = device(site, other, dir.resolve("b"));
            SiteHarness.Running agentB = site.startAgent(site.agentConfig(other, "agent-b", "rsa2048", "ecc",
                    dir.resolve("b/securityfs")));
            await("device b trusted via the broker after the attempts", Duration.ofSeconds(90),
                    () -> "trusted".equals(SiteAttestationTest.state(site, b)));
            assertThat(agentB.daemon().status()).isIn("connected", "connecting");
            assertThat("trusted").isEqualTo(SiteAttestationTest.state(site, a));
        }
    }

    private static String device(SiteHarness site, Swtpm tpm, Path dir) throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(tpm::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        kernel.measure("/usr/bin/outpost-agent", "agent".getBytes(StandardCharsets.UTF_8));
        Files.createDirectories(dir);
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));
        return site.trustWithPolicy(tpm, dir.resolve("runtime.json"));
    }

    /** An anonymous client on the enrollment listener with a client id of its choosing; refused is fine. */
    private static final class Thief implements AutoCloseable {
        private final MqttClient client;

        private Thief(MqttClient client) {
            this.client = client;
        }

        static Thief connect(int port, String clientId, Path caPem) throws Exception {
            MqttClient c = new MqttClient("ssl://127.0.0.1:" + port, clientId, new MemoryPersistence());
            MqttConnectionOptions o = new MqttConnectionOptions();
            o.setSocketFactory(TlsContexts.context(TlsContexts.trusting(AgentState.certificates(
                    Files.readString(caPem))), null).getSocketFactory());
            o.setCleanStart(true);
            o.setConnectionTimeout(5);
            try {
                c.connect(o);
            } catch (MqttException e) {
                // Refused at CONNECT: what the shipped configuration does to a client id without its prefix.
                assertThat(e.getReasonCode()).as("CONNACK for %s", clientId).isEqualTo(0x87);
            }
            return new Thief(c);
        }

        @Override
        public void close() throws MqttException {
            if (client.isConnected()) {
                client.disconnect();
            }
            client.close(true);
        }
    }
}
