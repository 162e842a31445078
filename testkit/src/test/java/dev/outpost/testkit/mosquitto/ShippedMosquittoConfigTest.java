package dev.outpost.testkit.mosquitto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outpost.testkit.Mosquitto;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocketFactory;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped {@code packaging/mosquitto} config on a real Mosquitto 2, with real TLS and real MQTT 5 clients.
 * One broker serves all tests; every test uses fresh device ids, so they cannot see each other's traffic.
 *
 * <p>Negative deliveries are asserted by waiting {@link #QUIET_MS}: Mosquitto queues a publish for all matching
 * subscribers before it sends the PUBACK to the publisher, so on loopback a message that was going to arrive
 * does so within milliseconds of the PUBACK; half a second is a wide margin, not a race.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ShippedMosquittoConfigTest {
    static final String P = "outpost/v1";
    static final long QUIET_MS = 500;
    static final int GRANTED_QOS1 = 0x01;
    static final int SUCCESS = 0x00;
    static final int NOT_AUTHORIZED = 0x87;
    static final int SESSION_TAKEN_OVER = 0x8E;
    static final int NO_SUBSCRIBERS = 0x10;
    static final int PACKET_TOO_LARGE = 0x95;
    /**
     * How a taken-over client learns it: Mosquitto 2.0.11 closes the old connection and Paho 1.2.5 reports
     * "connection lost" (32109) rather than a DISCONNECT 0x8E; either means the session is gone.
     */
    static final Integer[] DROPPED = {SESSION_TAKEN_OVER, 32109};

    @TempDir
    static Path tmp;
    Mosquitto broker;
    TestPki site;
    SSLSocketFactory applianceTls;
    Client appliance;

    @RegisterExtension
    final TestWatcher brokerLogOnFailure = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            System.err.println("broker log for failed " + context.getDisplayName() + ":\n"
                    + (broker == null ? "(no broker)" : broker.log()));
        }
    };

    @BeforeAll
    void startBroker() throws Exception {
        site = TestPki.newCa("Outpost site CA");
        TestPki.Issued server = site.server();
        Path bundle = tmp.resolve("bundle.pem");
        Path cert = tmp.resolve("server.pem");
        Path key = tmp.resolve("server.key");
        TestPki.writePem(bundle, site.caCert());
        TestPki.writePem(cert, server.chain().toArray());
        TestPki.writePem(key, server.key().getPrivate());
        broker = Mosquitto.start(tmp.resolve("broker"), bundle, cert, key);
        applianceTls = TestPki.tls(site.caCert(), site.client("outpost-appliance"));
    }

    @BeforeEach
    void connectAppliance() throws Exception {
        appliance = Client.connect(broker.mtlsUri(), "outpost-appliance", applianceTls);
        assertThat(appliance.subscribe(P + "/dev/+/req/#")).containsExactly(GRANTED_QOS1);
    }

    @AfterEach
    void disconnectAppliance() {
        appliance.close();
    }

    @AfterAll
    void stopBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    Client device(String id) throws MqttException {
        return Client.connect(broker.mtlsUri(), id, TestPki.tls(site.caCert(), site.svid(id)));
    }

    Client enrolling(String id) throws MqttException {
        return Client.connect(broker.enrollUri(), id, TestPki.tls(site.caCert(), null));
    }

    static byte[] correlation() {
        byte[] b = new byte[16];
        new SecureRandom().nextBytes(b);
        return b;
    }

    @Test
    void svidDeviceRequestsReachTheApplianceAndItsReplyComesBack() throws Exception {
        String a = TestPki.newDeviceId();
        try (Client dev = device(a)) {
            assertThat(dev.subscribe(P + "/dev/" + a + "/resp", P + "/dev/" + a + "/cmd"))
                    .containsExactly(GRANTED_QOS1, GRANTED_QOS1);
            byte[] corr = correlation();
            for (String kind : new String[] {"enroll", "activate", "csr", "challenge", "evidence", "status"}) {
                assertThat(dev.publish(P + "/dev/" + a + "/req/" + kind, "{\"v\":1}", false,
                        P + "/dev/" + a + "/resp", corr)).isEqualTo(SUCCESS);
                Client.Received req = appliance.poll(Client.TIMEOUT_MS);
                assertThat(req).isNotNull();
                assertThat(req.topic()).isEqualTo(P + "/dev/" + a + "/req/" + kind);
                assertThat(req.properties().getResponseTopic()).isEqualTo(P + "/dev/" + a + "/resp");
                assertThat(req.properties().getCorrelationData()).isEqualTo(corr);
            }
            assertThat(appliance.publish(P + "/dev/" + a + "/resp", "reply", false, null, null)).isEqualTo(SUCCESS);
            assertThat(appliance.publish(P + "/dev/" + a + "/cmd", "attest-now", false)).isEqualTo(SUCCESS);
            assertThat(dev.poll(Client.TIMEOUT_MS).payload()).isEqualTo("reply");
            assertThat(dev.poll(Client.TIMEOUT_MS).payload()).isEqualTo("attest-now");
        }
    }

    @Test
    void svidDeviceCannotReachAnotherDevicesTopics() throws Exception {
        String a = TestPki.newDeviceId();
        String b = TestPki.newDeviceId();
        try (Client dev = device(a)) {
            // Mosquitto 2.0 grants any subscription and applies the read ACL to each message it would deliver,
            // so the SUBACK says nothing; what counts is that nothing of another device ever arrives.
            assertThat(dev.subscribe(P + "/dev/" + b + "/resp", P + "/dev/+/resp", P + "/dev/#",
                    P + "/dev/" + a + "/req/#"))
                    .containsExactly(GRANTED_QOS1, GRANTED_QOS1, GRANTED_QOS1, GRANTED_QOS1);
            try (Client devB = device(b)) {
                assertThat(devB.publish(P + "/dev/" + b + "/req/status", "b", false)).isEqualTo(SUCCESS);
                assertThat(appliance.poll(Client.TIMEOUT_MS).payload()).isEqualTo("b");
            }
            assertThat(appliance.publish(P + "/dev/" + b + "/resp", "for-b", false)).isIn(SUCCESS, NO_SUBSCRIBERS);
            assertThat(appliance.publish(P + "/dev/" + b + "/cmd", "for-b", false)).isIn(SUCCESS, NO_SUBSCRIBERS);
            assertThat(dev.publish(P + "/dev/" + a + "/req/status", "own", false)).isEqualTo(SUCCESS);
            assertThat(appliance.poll(Client.TIMEOUT_MS).payload()).isEqualTo("own");
            assertThat(dev.poll(QUIET_MS)).isNull();
            // Denied publishes get PUBACK 0x87 and are dropped: the appliance never sees them.
            assertThat(dev.publish(P + "/dev/" + b + "/req/status", "x", false)).isEqualTo(NOT_AUTHORIZED);
            assertThat(dev.publish(P + "/dev/" + b + "/req/enroll", "x", false)).isEqualTo(NOT_AUTHORIZED);
            // Nor can a device forge replies, commands or site broadcasts, not even for itself.
            assertThat(dev.publish(P + "/dev/" + a + "/resp", "x", false)).isEqualTo(NOT_AUTHORIZED);
            assertThat(dev.publish(P + "/dev/" + a + "/cmd", "x", false)).isEqualTo(NOT_AUTHORIZED);
            assertThat(dev.publish(P + "/site/bundle", "x", true)).isEqualTo(NOT_AUTHORIZED);
            assertThat(appliance.poll(QUIET_MS)).isNull();
            assertThat(dev.isConnected()).isTrue();
        }
    }

    @Test
    void applianceSeesEveryDeviceAndRepliesReachOnlyTheAddressedOne() throws Exception {
        String a = TestPki.newDeviceId();
        String b = TestPki.newDeviceId();
        try (Client devA = device(a); Client devB = device(b); Client anon = enrolling(TestPki.newDeviceId())) {
            assertThat(devA.subscribe(P + "/dev/" + a + "/resp")).containsExactly(GRANTED_QOS1);
            assertThat(devB.subscribe(P + "/dev/" + b + "/resp")).containsExactly(GRANTED_QOS1);
            assertThat(devA.publish(P + "/dev/" + a + "/req/status", "from-a", false)).isEqualTo(SUCCESS);
            assertThat(devB.publish(P + "/dev/" + b + "/req/status", "from-b", false)).isEqualTo(SUCCESS);
            assertThat(appliance.poll(Client.TIMEOUT_MS).payload()).isEqualTo("from-a");
            assertThat(appliance.poll(Client.TIMEOUT_MS).payload()).isEqualTo("from-b");

            assertThat(appliance.publish(P + "/dev/" + a + "/resp", "for-a", false)).isEqualTo(SUCCESS);
            assertThat(devA.poll(Client.TIMEOUT_MS).payload()).isEqualTo("for-a");
            assertThat(devB.poll(QUIET_MS)).isNull();
            assertThat(anon.poll(0)).isNull();
        }
    }

    @Test
    void enrollmentListenerAllowsOnlyEnrollAndActivateForTheOwnClientId() throws Exception {
        String c = TestPki.newDeviceId();
        String d = TestPki.newDeviceId();
        try (Client anon = enrolling(c)) {
            assertThat(anon.subscribe(P + "/dev/" + c + "/resp", P + "/dev/" + c + "/cmd", P + "/site/bundle",
                    P + "/site/revocations"))
                    .containsExactly(GRANTED_QOS1, GRANTED_QOS1, GRANTED_QOS1, GRANTED_QOS1);
            // Granted, but filtered per message (see svidDeviceCannotReachAnotherDevicesTopics).
            assertThat(anon.subscribe(P + "/dev/" + d + "/resp", P + "/dev/+/resp", P + "/dev/+/req/#",
                    P + "/site/#"))
                    .containsExactly(GRANTED_QOS1, GRANTED_QOS1, GRANTED_QOS1, GRANTED_QOS1);
            assertThat(appliance.publish(P + "/dev/" + d + "/resp", "for-d", false)).isIn(SUCCESS, NO_SUBSCRIBERS);
            assertThat(anon.poll(QUIET_MS)).isNull();

            assertThat(anon.publish(P + "/dev/" + c + "/req/enroll", "enroll-c", false,
                    P + "/dev/" + c + "/resp", correlation())).isEqualTo(SUCCESS);
            // The appliance's own site/# read comes from the pattern; only requests arrive on dev/+/req/#.
            assertThat(appliance.poll(Client.TIMEOUT_MS).topic()).isEqualTo(P + "/dev/" + c + "/req/enroll");
            assertThat(anon.publish(P + "/dev/" + c + "/req/activate", "activate-c", false)).isEqualTo(SUCCESS);
            assertThat(appliance.poll(Client.TIMEOUT_MS).topic()).isEqualTo(P + "/dev/" + c + "/req/activate");

            for (String kind : new String[] {"csr", "challenge", "evidence", "status"}) {
                assertThat(anon.publish(P + "/dev/" + c + "/req/" + kind, "x", false)).isEqualTo(NOT_AUTHORIZED);
            }
            assertThat(anon.publish(P + "/dev/" + d + "/req/enroll", "x", false)).isEqualTo(NOT_AUTHORIZED);
            assertThat(anon.publish(P + "/dev/" + c + "/resp", "x", false)).isEqualTo(NOT_AUTHORIZED);
            assertThat(anon.publish(P + "/site/bundle", "x", true)).isEqualTo(NOT_AUTHORIZED);
            assertThat(appliance.poll(QUIET_MS)).isNull();

            assertThat(appliance.publish(P + "/dev/" + c + "/resp", "enroll-reply", false)).isEqualTo(SUCCESS);
            assertThat(anon.poll(Client.TIMEOUT_MS).payload()).isEqualTo("enroll-reply");
        }
    }

    @Test
    void aUsernameOnTheEnrollmentListenerGrantsNothing() throws Exception {
        // Nothing authenticates a username there; the enrollment ACL never looks at one.
        try (Client fake = Client.connect(broker.enrollUri(), "not-a-device", TestPki.tls(site.caCert(), null),
                "outpost-appliance")) {
            assertThat(fake.subscribe(P + "/dev/+/req/#")).containsExactly(GRANTED_QOS1);
            try (Client dev = device(TestPki.newDeviceId())) {
                assertThat(dev.publish(P + "/dev/" + dev.id + "/req/status", "x", false)).isEqualTo(SUCCESS);
            }
            assertThat(appliance.poll(Client.TIMEOUT_MS)).isNotNull();
            assertThat(fake.poll(QUIET_MS)).isNull();
            assertThat(fake.publish(P + "/dev/" + TestPki.newDeviceId() + "/resp", "x", false))
                    .isEqualTo(NOT_AUTHORIZED);
            assertThat(fake.publish(P + "/site/bundle", "x", true)).isEqualTo(NOT_AUTHORIZED);
        }
    }

    @Test
    void aClientIdWithSlashesOnlyReachesDeeperTopics() throws Exception {
        // %c fills one level only when the client id has no '/'. Mosquitto 2.0 does not forbid '/' in client
        // ids, so an enrolling client can make its enroll topic look like another kind of another device,
        // one level deeper. The appliance must therefore take device id and kind from a topic of exactly
        // five levels with an allowlisted kind; this test pins down what reaches it.
        String v = TestPki.newDeviceId();
        String trick = v + "/req/status";
        try (Client anon = enrolling(trick)) {
            assertThat(anon.publish(P + "/dev/" + trick + "/req/enroll", "x", false)).isEqualTo(SUCCESS);
            assertThat(appliance.poll(Client.TIMEOUT_MS).topic())
                    .isEqualTo(P + "/dev/" + v + "/req/status/req/enroll");
            // Never the five-level topic itself, and never a reply topic of exactly five levels.
            assertThat(anon.publish(P + "/dev/" + v + "/req/status", "x", false)).isEqualTo(NOT_AUTHORIZED);
            assertThat(anon.subscribe(P + "/dev/" + v + "/resp")).containsExactly(GRANTED_QOS1);
            assertThat(appliance.publish(P + "/dev/" + v + "/resp", "for-v", false)).isIn(SUCCESS, NO_SUBSCRIBERS);
            assertThat(anon.poll(QUIET_MS)).isNull();
            assertThat(appliance.poll(0)).isNull();
        }
    }

    @Test
    void enrollmentClaimingAnotherIdReadsItsReplies() throws Exception {
        // The limit of what the broker can do (README, "Enrollment listener"): a client id is a claim, so a
        // second anonymous client with the same id receives that id's replies. The first is taken over.
        String c = TestPki.newDeviceId();
        try (Client victim = enrolling(c)) {
            assertThat(victim.subscribe(P + "/dev/" + c + "/resp")).containsExactly(GRANTED_QOS1);
            try (Client thief = enrolling(c)) {
                assertThat(thief.subscribe(P + "/dev/" + c + "/resp")).containsExactly(GRANTED_QOS1);
                assertThat(victim.disconnectReason()).isIn(DROPPED);
                assertThat(victim.isConnected()).isFalse();
                assertThat(appliance.publish(P + "/dev/" + c + "/resp", "reply", false)).isEqualTo(SUCCESS);
                assertThat(thief.poll(Client.TIMEOUT_MS).payload()).isEqualTo("reply");
            }
        }
    }

    @Test
    void enrollmentClientCanTakeOverAnSvidDevicesConnection() throws Exception {
        // Client ids are one namespace across listeners, and the device's client id is its (public) device id,
        // so anyone reaching the enrollment port can knock an SVID device off. It only disconnects: the
        // thief gets no rights of the device. README says how sites limit this.
        String a = TestPki.newDeviceId();
        try (Client dev = device(a)) {
            try (Client thief = enrolling(a)) {
                assertThat(dev.disconnectReason()).isIn(DROPPED);
                assertThat(dev.isConnected()).isFalse();
                assertThat(thief.publish(P + "/dev/" + a + "/req/status", "x", false)).isEqualTo(NOT_AUTHORIZED);
            }
        }
    }

    @Test
    void anSvidCannotTakeOverAnotherDeviceByClaimingItsClientId() throws Exception {
        // use_username_as_clientid pins the client id to the certificate's CN on the mTLS listener.
        String a = TestPki.newDeviceId();
        String b = TestPki.newDeviceId();
        try (Client devB = device(b);
             Client devA = Client.connect(broker.mtlsUri(), b, TestPki.tls(site.caCert(), site.svid(a)))) {
            assertThat(devA.publish(P + "/dev/" + a + "/req/status", "a", false)).isEqualTo(SUCCESS);
            assertThat(appliance.poll(Client.TIMEOUT_MS).topic()).isEqualTo(P + "/dev/" + a + "/req/status");
            assertThat(devB.disconnects.poll(QUIET_MS, TimeUnit.MILLISECONDS)).isNull();
            assertThat(devB.isConnected()).isTrue();
        }
    }

    @Test
    void aFullSizeRequestPassesAndAnOversizedOneNeverArrives() throws Exception {
        // The protocol allows 64 KiB payloads; max_packet_size must leave room for topic and properties.
        String a = TestPki.newDeviceId();
        try (Client dev = device(a)) {
            String full = "x".repeat(64 * 1024);
            byte[] corr = new byte[64];
            assertThat(dev.publish(P + "/dev/" + a + "/req/evidence", full, false, P + "/dev/" + a + "/resp", corr))
                    .isEqualTo(SUCCESS);
            assertThat(appliance.poll(Client.TIMEOUT_MS).payload()).hasSize(64 * 1024);

            String over = "x".repeat(81920);
            Object outcome;
            try {
                outcome = dev.publish(P + "/dev/" + a + "/req/evidence", over, false);
            } catch (MqttException e) {
                outcome = e;
            }
            // Mosquitto ends the connection with DISCONNECT 0x95 (packet too large), like the embedded endpoint.
            assertThat(outcome).isInstanceOf(MqttException.class);
            assertThat(dev.disconnectReason()).isEqualTo(PACKET_TOO_LARGE);
            assertThat(appliance.poll(QUIET_MS)).isNull();
        }
    }

    @Test
    void certificateFromAnotherCaFailsTheHandshake() {
        TestPki other = TestPki.newCa("Someone else's CA");
        int mark = broker.logMark();
        String a = TestPki.newDeviceId();
        assertThatThrownBy(() -> Client.connect(broker.mtlsUri(), a, TestPki.tls(site.caCert(), other.svid(a))))
                .isInstanceOf(MqttException.class);
        assertThat(broker.awaitLog(mark, "certificate verify failed", Duration.ofSeconds(5))).isTrue();
        assertThat(broker.isAlive()).isTrue();
    }

    @Test
    void anExpiredSvidFailsTheHandshake() {
        int mark = broker.logMark();
        // Short-lived SVIDs are the broker's revocation: it has no CRL, so expiry must be enforced.
        String a = TestPki.newDeviceId();
        assertThatThrownBy(() -> Client.connect(broker.mtlsUri(), a, TestPki.tls(site.caCert(), site.expiredSvid(a))))
                .isInstanceOf(MqttException.class);
        // Mosquitto 2.0.11 logs no detail beyond this; it shows the certificate was presented and refused.
        assertThat(broker.awaitLog(mark, "certificate verify failed", Duration.ofSeconds(5))).isTrue();
    }

    @Test
    void noCertificateIsRefusedOnTheMtlsListener() {
        int mark = broker.logMark();
        assertThatThrownBy(() -> Client.connect(broker.mtlsUri(), TestPki.newDeviceId(),
                TestPki.tls(site.caCert(), null)))
                .isInstanceOf(MqttException.class);
        assertThat(broker.awaitLog(mark, "peer did not return a certificate", Duration.ofSeconds(5))).isTrue();
    }

    @Test
    void retainedBundleReachesLateSubscribersOnBothListeners() throws Exception {
        String bundle = "{\"spiffe_sequence\":" + System.nanoTime() + "}";
        assertThat(appliance.publish(P + "/site/bundle", bundle, true)).isIn(SUCCESS, NO_SUBSCRIBERS);
        try (Client dev = device(TestPki.newDeviceId()); Client anon = enrolling(TestPki.newDeviceId())) {
            assertThat(dev.subscribe(P + "/site/#")).containsExactly(GRANTED_QOS1);
            assertThat(anon.subscribe(P + "/site/bundle")).containsExactly(GRANTED_QOS1);
            assertThat(dev.poll(Client.TIMEOUT_MS).payload()).isEqualTo(bundle);
            assertThat(anon.poll(Client.TIMEOUT_MS).payload()).isEqualTo(bundle);
        }
    }

    @Test
    void generatedConfigIsTheShippedOneWithOnlyPathsPortsAndUserChanged() throws Exception {
        String shipped = Files.readString(Mosquitto.shippedDir().resolve("outpost.conf"), StandardCharsets.UTF_8);
        String used = Files.readString(broker.configFile(), StandardCharsets.UTF_8);
        for (String line : shipped.split("\n")) {
            if (line.isBlank() || line.startsWith("#") || line.startsWith("listener ")
                    || line.equals("log_dest syslog") || line.contains(Mosquitto.SHIPPED_DIR)) {
                continue;
            }
            assertThat(used).contains(line);
        }
        assertThat(used).contains("listener " + broker.mtlsPort() + " 127.0.0.1",
                "listener " + broker.enrollPort() + " 127.0.0.1");
    }
}
