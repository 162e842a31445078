package dev.outpost.testkit.mosquitto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outpost.testkit.Mosquitto;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
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
    /** What outpost.conf's clientid_prefixes demands of every client id (BrokerClientIds in mqtt-bridge). */
    static final String ID_PREFIX = "outpost-client-";
    static final SecureRandom RANDOM = new SecureRandom();
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
        appliance = Client.connect(broker.mtlsUri(), freshId(), applianceTls);
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

    /** A device with its SVID; the client id it sends is a fresh one, which the broker replaces with the CN. */
    Client device(String id) throws MqttException {
        return Client.connect(broker.mtlsUri(), freshId(), TestPki.tls(site.caCert(), site.svid(id)));
    }

    Client enrolling(String clientId) throws MqttException {
        return Client.connect(broker.enrollUri(), clientId, TestPki.tls(site.caCert(), null));
    }

    /** Like the agent's: the required prefix and 128 random bits. */
    static String freshId() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return ID_PREFIX + HexFormat.of().formatHex(b);
    }

    /** Waits {@link #QUIET_MS} for anything but the site broadcasts an anonymous client may read. */
    static void assertOnlySiteBroadcasts(Client c) throws InterruptedException {
        for (Client.Received r; (r = c.poll(QUIET_MS)) != null; ) {
            assertThat(r.topic()).startsWith(P + "/site/");
        }
    }

    static String enroll(String clientId, String deviceId) {
        return P + "/enroll/" + clientId + "/" + deviceId;
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
        try (Client devA = device(a); Client devB = device(b); Client anon = enrolling(freshId())) {
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
    void enrollmentListenerAllowsOnlyEnrollAndActivateUnderTheOwnClientId() throws Exception {
        String c = freshId();
        String other = freshId();
        String dev = TestPki.newDeviceId();
        try (Client anon = enrolling(c)) {
            assertThat(anon.subscribe(enroll(c, dev) + "/resp")).containsExactly(GRANTED_QOS1);
            // Granted, but filtered per message (see svidDeviceCannotReachAnotherDevicesTopics).
            assertThat(anon.subscribe(enroll(other, dev) + "/resp", P + "/enroll/+/+/resp", P + "/enroll/#"))
                    .containsExactly(GRANTED_QOS1, GRANTED_QOS1, GRANTED_QOS1);
            assertThat(appliance.subscribe(P + "/enroll/+/+/req/#")).containsExactly(GRANTED_QOS1);
            assertThat(appliance.publish(enroll(other, dev) + "/resp", "for-other", false)).isIn(SUCCESS, NO_SUBSCRIBERS);
            assertThat(anon.poll(QUIET_MS)).isNull();

            byte[] corr = correlation();
            assertThat(anon.publish(enroll(c, dev) + "/req/enroll", "enroll", false, enroll(c, dev) + "/resp", corr))
                    .isEqualTo(SUCCESS);
            Client.Received req = appliance.poll(Client.TIMEOUT_MS);
            assertThat(req.topic()).isEqualTo(enroll(c, dev) + "/req/enroll");
            assertThat(req.properties().getCorrelationData()).isEqualTo(corr);
            assertThat(anon.publish(enroll(c, dev) + "/req/activate", "activate", false)).isEqualTo(SUCCESS);
            assertThat(appliance.poll(Client.TIMEOUT_MS).topic()).isEqualTo(enroll(c, dev) + "/req/activate");

            for (String kind : new String[] {"csr", "challenge", "evidence", "status"}) {
                assertThat(anon.publish(enroll(c, dev) + "/req/" + kind, "x", false)).isEqualTo(NOT_AUTHORIZED);
            }
            // Nothing on the device tree, not even enrollment, and nothing under another client id.
            assertThat(anon.publish(P + "/dev/" + dev + "/req/enroll", "x", false)).isEqualTo(NOT_AUTHORIZED);
            assertThat(anon.publish(enroll(other, dev) + "/req/enroll", "x", false)).isEqualTo(NOT_AUTHORIZED);
            assertThat(anon.publish(enroll(c, dev) + "/resp", "x", false)).isEqualTo(NOT_AUTHORIZED);
            assertThat(anon.publish(P + "/site/bundle", "x", true)).isEqualTo(NOT_AUTHORIZED);
            assertThat(appliance.poll(QUIET_MS)).isNull();

            assertThat(appliance.publish(enroll(c, dev) + "/resp", "enroll-reply", false)).isEqualTo(SUCCESS);
            assertThat(anon.poll(Client.TIMEOUT_MS).payload()).isEqualTo("enroll-reply");
        }
    }

    @Test
    void anEnrolledDevicesTopicsAreClosedToAnonymousClients() throws Exception {
        // Enrolling clients used to read dev/<id>/resp and cmd under client id <id>, which anyone could claim.
        String a = TestPki.newDeviceId();
        try (Client dev = device(a)) {
            assertThat(dev.subscribe(P + "/dev/" + a + "/resp", P + "/dev/" + a + "/cmd"))
                    .containsExactly(GRANTED_QOS1, GRANTED_QOS1);
            for (String claimed : new String[] {a, ID_PREFIX + a}) {
                try (Client anon = enrollingOrRefused(claimed)) {
                    if (anon == null) {
                        continue;
                    }
                    anon.subscribe(P + "/dev/" + a + "/resp", P + "/dev/" + a + "/cmd", P + "/dev/#", "#", "$SYS/#",
                            "+/#");
                    assertThat(appliance.publish(P + "/dev/" + a + "/resp", "reply", false)).isEqualTo(SUCCESS);
                    assertThat(appliance.publish(P + "/dev/" + a + "/cmd", "attest-now", false)).isEqualTo(SUCCESS);
                    assertThat(dev.poll(Client.TIMEOUT_MS).payload()).isEqualTo("reply");
                    assertThat(dev.poll(Client.TIMEOUT_MS).payload()).isEqualTo("attest-now");
                    // Mosquitto's retained $SYS topics ($SYS/broker/version, ...) would arrive at once if
                    // readable: they, and connection log topics, could name client ids. No ACL grants them.
                    assertOnlySiteBroadcasts(anon);
                    assertThat(anon.publish(P + "/dev/" + a + "/req/enroll", "x", false)).isEqualTo(NOT_AUTHORIZED);
                }
            }
        }
    }

    @Test
    void aUsernameOnTheEnrollmentListenerGrantsNothing() throws Exception {
        // Nothing authenticates a username there; the enrollment ACL never looks at one.
        try (Client fake = Client.connect(broker.enrollUri(), freshId(), TestPki.tls(site.caCert(), null),
                "outpost-appliance")) {
            assertThat(fake.subscribe(P + "/dev/+/req/#")).containsExactly(GRANTED_QOS1);
            String a = TestPki.newDeviceId();
            try (Client dev = device(a)) {
                assertThat(dev.publish(P + "/dev/" + a + "/req/status", "x", false)).isEqualTo(SUCCESS);
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
        // ids, so a client can make its client id look like another client id and a device id. Every topic
        // it may then use is a level deeper than outpost/v1/enroll/<client>/<device>/req/<kind>: the appliance's
        // own read ACL (enroll/+/+/req/#) does not even deliver those, and its parser would refuse them
        // (Topics.parseEnrollmentRequest).
        String victim = freshId();
        String v = TestPki.newDeviceId();
        String trick = victim + "/" + v;
        try (Client anon = enrolling(trick)) {
            assertThat(appliance.subscribe(P + "/enroll/#")).containsExactly(GRANTED_QOS1);
            assertThat(anon.publish(P + "/enroll/" + trick + "/x/req/enroll", "x", false)).isEqualTo(SUCCESS);
            assertThat(appliance.poll(QUIET_MS)).isNull();
            // Never the victim's own request or reply topic.
            assertThat(anon.publish(enroll(victim, v) + "/req/enroll", "x", false)).isEqualTo(NOT_AUTHORIZED);
            anon.subscribe(enroll(victim, v) + "/resp");
            assertThat(appliance.publish(enroll(victim, v) + "/resp", "for-victim", false)).isIn(SUCCESS, NO_SUBSCRIBERS);
            assertThat(anon.poll(QUIET_MS)).isNull();
            assertThat(appliance.poll(0)).isNull();
        }
    }

    @Test
    void anEnrollingClientsIdIsItsOnlySecret() throws Exception {
        // What the broker cannot do (README, "Enrollment listener"): two anonymous clients with one client id
        // are one client to it, so whoever knows an enrolling client's id takes over its connection and its
        // replies. The agent's id is 128 random bits, new per connection, and no ACL lets others read it.
        String c = freshId();
        String dev = TestPki.newDeviceId();
        try (Client victim = enrolling(c)) {
            assertThat(victim.subscribe(enroll(c, dev) + "/resp")).containsExactly(GRANTED_QOS1);
            try (Client thief = enrolling(c)) {
                assertThat(thief.subscribe(enroll(c, dev) + "/resp")).containsExactly(GRANTED_QOS1);
                assertThat(victim.disconnectReason()).isIn(DROPPED);
                assertThat(appliance.publish(enroll(c, dev) + "/resp", "reply", false)).isEqualTo(SUCCESS);
                assertThat(thief.poll(Client.TIMEOUT_MS).payload()).isEqualTo("reply");
            }
        }
    }

    @Test
    void clientIdsWithoutThePrefixAreRefusedOnBothListeners() throws Exception {
        // The prefix is checked before the mTLS listener swaps the id for the CN: a valid SVID does not help.
        String a = TestPki.newDeviceId();
        int mark = broker.logMark();
        for (String id : new String[] {a, "outpost-appliance", "outpost-clien", ""}) {
            assertThatThrownBy(() -> Client.connect(broker.mtlsUri(), id, TestPki.tls(site.caCert(), site.svid(a))))
                    .as("mTLS, id '%s'", id).isInstanceOfSatisfying(MqttException.class,
                            e -> assertThat(e.getReasonCode()).isEqualTo(NOT_AUTHORIZED));
            assertThatThrownBy(() -> enrolling(id)).as("enrollment, id '%s'", id)
                    .isInstanceOfSatisfying(MqttException.class,
                            e -> assertThat(e.getReasonCode()).isEqualTo(NOT_AUTHORIZED));
        }
        // What README tells operators to watch for (the id is not logged: it is refused before it is kept).
        assertThat(broker.awaitLog(mark, "Client <unknown> disconnected, not authorised.", Duration.ofSeconds(5)))
                .isTrue();
    }

    @Test
    void anEnrollmentClientCannotTakeOverTheAppliance() throws Exception {
        // The appliance's effective client id is its CN; the id it sent is one it could leak, so try both.
        String a = TestPki.newDeviceId();
        try (Client dev = device(a)) {
            for (String claimed : new String[] {"outpost-appliance", appliance.id}) {
                try (Client thief = enrollingOrRefused(claimed)) {
                    assertThat(appliance.disconnects.poll(QUIET_MS, TimeUnit.MILLISECONDS)).as(claimed).isNull();
                    assertThat(appliance.isConnected()).isTrue();
                    assertThat(dev.publish(P + "/dev/" + a + "/req/status", claimed, false)).isEqualTo(SUCCESS);
                    assertThat(appliance.poll(Client.TIMEOUT_MS).payload()).isEqualTo(claimed);
                }
            }
        }
    }

    @Test
    void anEnrollmentClientCannotTakeOverAnSvidDevice() throws Exception {
        // The device's effective client id is its CN, the device id, which is public.
        String a = TestPki.newDeviceId();
        try (Client dev = device(a)) {
            for (String claimed : new String[] {a, dev.id}) {
                try (Client thief = enrollingOrRefused(claimed)) {
                    assertThat(dev.disconnects.poll(QUIET_MS, TimeUnit.MILLISECONDS)).as(claimed).isNull();
                    assertThat(dev.isConnected()).isTrue();
                }
            }
        }
    }

    /** An anonymous client with this id, or null when the broker refuses it at CONNECT (CONNACK 0x87). */
    Client enrollingOrRefused(String id) throws MqttException {
        try {
            return enrolling(id);
        } catch (MqttException e) {
            assertThat(e.getReasonCode()).as("refused " + id).isEqualTo(NOT_AUTHORIZED);
            return null;
        }
    }

    @Test
    void anSvidCannotTakeOverAnotherDeviceByClaimingItsClientId() throws Exception {
        // use_username_as_clientid pins the client id to the certificate's CN on the mTLS listener.
        String a = TestPki.newDeviceId();
        String b = TestPki.newDeviceId();
        try (Client devB = device(b);
             Client devA = Client.connect(broker.mtlsUri(), devB.id, TestPki.tls(site.caCert(), site.svid(a)))) {
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
        try (Client dev = device(TestPki.newDeviceId()); Client anon = enrolling(freshId())) {
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
