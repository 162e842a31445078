package dev.outpost.mqtt.endpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.DeviceStatus;
import dev.outpost.mqtt.protocol.EnrollChallenge;
import dev.outpost.mqtt.protocol.EnrollRequest;
import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.ProtocolException;
import dev.outpost.mqtt.protocol.Response;
import dev.outpost.mqtt.protocol.StatusRequest;
import dev.outpost.mqtt.protocol.Topics;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

/** The endpoint over real TLS with a real Paho v5 client on loopback. */
class MqttEndpointServerTest {
    private static final String TD = "outpost.test";
    private static final SecureRandom RANDOM = new SecureRandom();

    private static Vertx vertx;
    private static TestPki pki;
    private static TestPki.Issued serverCert;

    private final Topics topics = new Topics();
    private final Codec codec = new Codec();
    private final List<DeviceRequest> calls = new CopyOnWriteArrayList<>();
    private final CompletableFuture<Promise<Object>> heldChallenge = new CompletableFuture<>();
    private MqttEndpointServer server;
    private int port;
    private final List<PahoTestClient> clients = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void pki() {
        vertx = Vertx.vertx();
        pki = TestPki.create("outpost test site CA");
        serverCert = pki.server();
    }

    @AfterAll
    static void stopVertx() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @BeforeEach
    void start() throws Exception {
        start(options());
    }

    private EndpointOptions options() {
        return EndpointOptions.of(serverCert.certificatePem(), serverCert.keyPem(), pki.caPem(), TD)
                .withListen("127.0.0.1", 0);
    }

    private void start(EndpointOptions o) throws Exception {
        start(o, KnownDevices.NONE);
    }

    private void start(EndpointOptions o, KnownDevices known) throws Exception {
        if (server != null) {
            server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        server = new MqttEndpointServer(o, this::handle, ConnectionPolicy.ALLOW_ALL, known);
        port = server.start(vertx).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        clients.forEach(PahoTestClient::close);
        server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    // The appliance stand-in: answers per kind, so each mapping of outcome to reply is visible.
    private Future<Object> handle(DeviceRequest r) {
        calls.add(r);
        switch (r.kind()) {
            case ENROLL:
                return Future.succeededFuture(new EnrollChallenge(1, "Y3JlZA==", "c2VjcmV0", 42L));
            case STATUS:
                return Future.succeededFuture(new DeviceStatus(1, r.deviceId(), "ENROLLED", null, 0L));
            case ACTIVATE:
                return Future.failedFuture(new ProtocolException(ErrorCode.ACTIVATION_FAILED, "wrong secret"));
            case CHALLENGE:
                Promise<Object> p = Promise.promise();
                heldChallenge.complete(p);
                return p.future();
            default:
                return Future.failedFuture(new IllegalStateException("database on fire at /var/lib/outpost"));
        }
    }

    private PahoTestClient withSvid(String deviceId) throws MqttException {
        return connect(deviceId, pki.socketFactory(pki.svid(spiffe(deviceId))));
    }

    private PahoTestClient withoutCert(String deviceId) throws MqttException {
        return connect(deviceId, pki.socketFactory(null));
    }

    private PahoTestClient connect(String clientId, javax.net.ssl.SSLSocketFactory tls) throws MqttException {
        PahoTestClient c = PahoTestClient.connect(port, clientId, tls, topics);
        clients.add(c);
        return c;
    }

    private static String spiffe(String deviceId) {
        return "spiffe://" + TD + "/agent/tpm/" + deviceId;
    }

    private static byte[] corr() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return b;
    }

    private byte[] enroll() {
        return codec.encode(new EnrollRequest(1, "AAEC", null, "AwQF"));
    }

    private byte[] status() {
        return codec.encode(new StatusRequest(1));
    }

    private Response reply(CompletableFuture<byte[]> f) throws Exception {
        byte[] b = f.get(PahoTestClient.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        return codec.decodeResponse(b);
    }

    private static void eventually(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + PahoTestClient.TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within " + PahoTestClient.TIMEOUT);
            }
            Thread.sleep(10);
        }
    }

    @Test
    void requestGetsItsReplyWithTheCorrelationData() throws Exception {
        String id = TestPki.randomDeviceId();
        PahoTestClient c = withSvid(id);
        c.subscribeOwn();
        byte[] corr = corr();

        Response r = reply(c.request(Kind.STATUS, status(), corr));

        assertThat(r.ok()).isTrue();
        assertThat(codec.body(r, DeviceStatus.class).deviceId()).isEqualTo(id);
        assertThat(calls).singleElement().satisfies(req -> {
            assertThat(req.deviceId()).isEqualTo(id);
            assertThat(req.authenticated()).isTrue();
            assertThat(req.clientCertificate()).isNotNull();
            assertThat(req.correlationData()).isEqualTo(corr);
            assertThat(req.message()).isEqualTo(new StatusRequest(1));
        });
        assertThat(server.connectedDevices()).containsExactly(id);
        assertThat(server.stats().snapshot().requests()).containsEntry(Kind.STATUS, 1L);
    }

    @Test
    void withoutCertificateADeviceMayEnrollButNotAskForStatus() throws Exception {
        String id = TestPki.randomDeviceId();
        PahoTestClient c = withoutCert(id);
        c.subscribeOwn();

        Response enrolled = reply(c.request(Kind.ENROLL, enroll(), corr()));
        Response status = reply(c.request(Kind.STATUS, status(), corr()));

        assertThat(enrolled.ok()).isTrue();
        assertThat(codec.body(enrolled, EnrollChallenge.class).credentialBlob()).isEqualTo("Y3JlZA==");
        assertThat(status.error()).isEqualTo(ErrorCode.UNAUTHORIZED);
        assertThat(calls).extracting(DeviceRequest::kind).containsExactly(Kind.ENROLL);
        assertThat(calls.get(0).authenticated()).isFalse();
        assertThat(calls.get(0).clientCertificate()).isNull();
    }

    @Test
    void aClientIdThatIsNoDeviceIdIsRefusedWithoutCertificate() {
        assertThatThrownBy(() -> withoutCert("sensor-7"))
                .isInstanceOfSatisfying(MqttException.class, e -> assertThat(e.getReasonCode()).isEqualTo(0x85));
    }

    @Test
    void publishingOnAnotherDevicesTopicIsForbiddenAndAnsweredOnTheOwnTopic() throws Exception {
        String me = TestPki.randomDeviceId();
        String victim = TestPki.randomDeviceId();
        PahoTestClient v = withSvid(victim);
        v.subscribeOwn();
        PahoTestClient c = withSvid(me);
        c.subscribeOwn();
        byte[] corr = corr();

        CompletableFuture<byte[]> f = c.publishRequest(topics.request(victim, Kind.STATUS), status(),
                topics.response(victim), corr);

        assertThat(reply(f).error()).isEqualTo(ErrorCode.FORBIDDEN);
        PahoTestClient.Received r = c.await(m -> m.correlationData() != null);
        assertThat(r.topic()).isEqualTo(topics.response(me));
        assertThat(calls).isEmpty();
        // the victim gets a reply to its own request, never the attacker's
        Response own = reply(v.request(Kind.STATUS, status(), corr()));
        assertThat(own.ok()).isTrue();
        assertThat(calls).extracting(DeviceRequest::deviceId).containsExactly(victim);
    }

    @Test
    void aResponseTopicThatIsNotTheDevicesOwnIsForbidden() throws Exception {
        String id = TestPki.randomDeviceId();
        PahoTestClient c = withSvid(id);
        c.subscribeOwn();

        Response other = reply(c.publishRequest(topics.request(id, Kind.STATUS), status(),
                topics.response(TestPki.randomDeviceId()), corr()));
        Response none = reply(c.publishRequest(topics.request(id, Kind.STATUS), status(), null, corr()));
        Response notRequest = reply(c.publishRequest("outpost/v1/site/bundle", status(), topics.response(id), corr()));

        assertThat(other.error()).isEqualTo(ErrorCode.FORBIDDEN);
        assertThat(none.error()).isEqualTo(ErrorCode.FORBIDDEN);
        assertThat(notRequest.error()).isEqualTo(ErrorCode.FORBIDDEN);
        assertThat(calls).isEmpty();
    }

    @Test
    void subscribingToAnotherDevicesTopicsIsRefusedPerFilter() throws Exception {
        String id = TestPki.randomDeviceId();
        String other = TestPki.randomDeviceId();
        PahoTestClient c = withSvid(id);

        int[] codes = c.subscribe(topics.response(id), topics.response(other), topics.command(other), "#",
                topics.siteBundle(), "outpost/v1/dev/+/resp");

        assertThat(codes).containsExactly(1, 0x87, 0x87, 0x87, 1, 0x87);
    }

    @Test
    void oversizedRequestsGetTooLargeAndFarLargerOnesLoseTheConnection() throws Exception {
        String id = TestPki.randomDeviceId();
        PahoTestClient c = withSvid(id);
        c.subscribeOwn();

        byte[] over = new byte[codec.limits().maxPayloadBytes() + 100];
        assertThat(reply(c.request(Kind.STATUS, over, corr())).error()).isEqualTo(ErrorCode.TOO_LARGE);

        c.request(Kind.STATUS, new byte[4 * codec.limits().maxPayloadBytes()], corr());
        c.disconnected().get(PahoTestClient.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        assertThat(calls).isEmpty();
    }

    @Test
    void garbageAndOtherVersionsAreRefusedByTheCodec() throws Exception {
        PahoTestClient c = withSvid(TestPki.randomDeviceId());
        c.subscribeOwn();

        Response garbage = reply(c.request(Kind.STATUS, "\u0000{not json".getBytes(StandardCharsets.UTF_8), corr()));
        Response v2 = reply(c.request(Kind.STATUS, "{\"v\":2}".getBytes(StandardCharsets.UTF_8), corr()));
        Response unknownField = reply(c.request(Kind.STATUS, "{\"v\":1,\"x\":1}".getBytes(StandardCharsets.UTF_8), corr()));

        assertThat(garbage.error()).isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(v2.error()).isEqualTo(ErrorCode.UNSUPPORTED_VERSION);
        assertThat(unknownField.error()).isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(calls).isEmpty();
    }

    @Test
    void correlationDataIsRequiredAndBounded() throws Exception {
        String id = TestPki.randomDeviceId();
        PahoTestClient c = withSvid(id);
        c.subscribeOwn();

        c.publishRequest(topics.request(id, Kind.STATUS), status(), topics.response(id), new byte[65]);
        PahoTestClient.Received tooLong = c.await(m -> m.topic().equals(topics.response(id)));
        c.publishRequest(topics.request(id, Kind.STATUS), status(), topics.response(id), null);
        PahoTestClient.Received missing = c.await(m -> m.topic().equals(topics.response(id)));

        assertThat(codec.decodeResponse(tooLong.payload()).error()).isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(tooLong.correlationData()).isNull();
        assertThat(codec.decodeResponse(missing.payload()).error()).isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(calls).isEmpty();
    }

    @Test
    void aRepeatedRequestGetsTheIdenticalReplyEvenAfterReconnectingAndTheHandlerRunsOnce() throws Exception {
        String id = TestPki.randomDeviceId();
        PahoTestClient first = withoutCert(id);
        first.subscribeOwn();
        byte[] corr = corr();
        byte[] a = first.request(Kind.ENROLL, enroll(), corr).get(10, TimeUnit.SECONDS);
        first.close();

        PahoTestClient again = withoutCert(id);
        again.subscribeOwn();
        byte[] b = again.request(Kind.ENROLL, enroll(), corr).get(10, TimeUnit.SECONDS);

        assertThat(b).isEqualTo(a);
        assertThat(calls).hasSize(1);
        assertThat(server.stats().snapshot().cacheHits()).isEqualTo(1);
    }

    @Test
    void aDuplicateWhileTheFirstIsInFlightWaitsForTheSameReply() throws Exception {
        String id = TestPki.randomDeviceId();
        PahoTestClient c = withSvid(id);
        c.subscribeOwn();
        byte[] corr = corr();
        c.request(Kind.CHALLENGE, "{\"v\":1}".getBytes(StandardCharsets.UTF_8), corr);
        Promise<Object> held = heldChallenge.get(10, TimeUnit.SECONDS);
        c.request(Kind.CHALLENGE, "{\"v\":1}".getBytes(StandardCharsets.UTF_8), corr);
        eventually(() -> server.stats().snapshot().cacheHits() == 1);

        held.complete(new DeviceStatus(1, id, "CHALLENGED", null, 0));

        PahoTestClient.Received one = c.await(m -> m.correlationData() != null);
        PahoTestClient.Received two = c.await(m -> m.correlationData() != null);
        assertThat(one.payload()).isEqualTo(two.payload());
        assertThat(codec.decodeResponse(one.payload()).ok()).isTrue();
        assertThat(calls).hasSize(1);
    }

    @Test
    void handlerFailuresBecomeProtocolErrorsWithoutInternals() throws Exception {
        PahoTestClient c = withSvid(TestPki.randomDeviceId());
        c.subscribeOwn();

        Response activation = reply(c.request(Kind.ACTIVATE, "{\"v\":1,\"secret\":\"AA==\",\"csr\":\"AA==\"}".getBytes(), corr()));
        Response internal = reply(c.request(Kind.CSR, "{\"v\":1,\"csr\":\"AA==\"}".getBytes(), corr()));

        assertThat(activation.error()).isEqualTo(ErrorCode.ACTIVATION_FAILED);
        assertThat(activation.message()).isEqualTo("wrong secret");
        assertThat(internal.error()).isEqualTo(ErrorCode.INTERNAL);
        assertThat(internal.message()).doesNotContain("database", "/var/lib", "Exception");
    }

    @Test
    void unauthenticatedRequestsAreRateLimitedPerDevice() throws Exception {
        start(options().withUnauthenticatedRates(new RateLimit(2, Duration.ofHours(1)), RateLimit.perMinute(100)));
        PahoTestClient c = withoutCert(TestPki.randomDeviceId());
        c.subscribeOwn();

        assertThat(reply(c.request(Kind.ENROLL, enroll(), corr())).ok()).isTrue();
        assertThat(reply(c.request(Kind.ENROLL, enroll(), corr())).ok()).isTrue();
        assertThat(reply(c.request(Kind.ENROLL, enroll(), corr())).error()).isEqualTo(ErrorCode.RATE_LIMITED);
        assertThat(calls).hasSize(2);
    }

    @Test
    void aDeviceWithItsSvidIsRateLimitedToo() throws Exception {
        start(options().withAuthenticatedRate(new RateLimit(5, Duration.ofHours(1))));
        PahoTestClient c = withSvid(TestPki.randomDeviceId());
        c.subscribeOwn();
        for (int i = 0; i < 5; i++) {
            assertThat(reply(c.request(Kind.STATUS, status(), corr())).ok()).isTrue();
        }
        Response limited = reply(c.request(Kind.STATUS, status(), corr()));
        assertThat(limited.error()).isEqualTo(ErrorCode.RATE_LIMITED);
        assertThat(limited.message()).contains("this device");
        assertThat(limited.retryAfterMs()).as("when to come back, with jitter").isBetween(2_000L, 4_000L);
        assertThat(calls).hasSize(5);
    }

    @Test
    void aFloodOfUnknownIdsLeavesRoomForDevicesTheSiteKnows() throws Exception {
        String knownId = TestPki.randomDeviceId();
        start(options().withUnauthenticatedRates(RateLimit.perMinute(5), new RateLimit(3, Duration.ofHours(1))),
                knownId::equals);
        for (int i = 0; i < 4; i++) {
            PahoTestClient flood = withoutCert(TestPki.randomDeviceId());
            flood.subscribeOwn();
            Response r = reply(flood.request(Kind.ENROLL, enroll(), corr()));
            if (i < 3) {
                assertThat(r.ok()).isTrue();
            } else {
                assertThat(r.error()).isEqualTo(ErrorCode.RATE_LIMITED);
                assertThat(r.message()).contains("at this site");
                assertThat(r.retryAfterMs()).isBetween(10_000L, 20_000L);
            }
        }
        PahoTestClient real = withoutCert(knownId);
        real.subscribeOwn();
        assertThat(reply(real.request(Kind.ENROLL, enroll(), corr())).ok()).as("the known device gets through").isTrue();
    }

    @Test
    void connectionsAndRequestsInFlightAreLimited() throws Exception {
        start(options().withMaxConnections(1).withConnectionLimits(1, 300));
        String id = TestPki.randomDeviceId();
        PahoTestClient c = withSvid(id);
        c.subscribeOwn();
        assertThatThrownBy(() -> withSvid(TestPki.randomDeviceId()))
                .isInstanceOfSatisfying(MqttException.class, e -> assertThat(e.getReasonCode()).isEqualTo(0x97));

        c.request(Kind.CHALLENGE, "{\"v\":1}".getBytes(StandardCharsets.UTF_8), corr());
        Promise<Object> held = heldChallenge.get(10, TimeUnit.SECONDS);
        Response busy = reply(c.request(Kind.STATUS, status(), corr()));

        assertThat(busy.error()).isEqualTo(ErrorCode.RATE_LIMITED);
        held.complete(new DeviceStatus(1, id, "CHALLENGED", null, 0));
        assertThat(reply(c.request(Kind.STATUS, status(), corr())).ok()).isTrue();
    }

    @Test
    void aClientCertificateFromAnotherCaFailsTheHandshake() {
        TestPki other = TestPki.create("some other CA");
        String id = TestPki.randomDeviceId();

        assertThatThrownBy(() -> connect(id, pki.socketFactory(other.svid(spiffe(id)))))
                .isInstanceOf(MqttException.class);
        assertThat(server.connectedDevices()).isEmpty();
    }

    @Test
    void anSvidForAnotherDeviceIsRefusedAtConnect() {
        String id = TestPki.randomDeviceId();
        String other = TestPki.randomDeviceId();

        assertThatThrownBy(() -> connect(id, pki.socketFactory(pki.svid(spiffe(other)))))
                .isInstanceOfSatisfying(MqttException.class, e -> assertThat(e.getReasonCode()).isEqualTo(0x87));
        assertThatThrownBy(() -> connect(id, pki.socketFactory(pki.svid("spiffe://elsewhere.test/agent/tpm/" + id))))
                .isInstanceOfSatisfying(MqttException.class, e -> assertThat(e.getReasonCode()).isEqualTo(0x87));
        assertThat(server.connectedDevices()).isEmpty();
        assertThat(server.stats().snapshot().connectionsRefused()).isEqualTo(2);
    }

    @Test
    void newTrustAnchorsApplyToNewConnections() throws Exception {
        TestPki rotated = TestPki.create("rotated site CA");
        String id = TestPki.randomDeviceId();
        assertThatThrownBy(() -> connect(id, pki.socketFactory(rotated.svid(spiffe(id)))))
                .isInstanceOf(MqttException.class);

        server.updateTrust(pki.caPem() + rotated.caPem());

        PahoTestClient c = connect(id, pki.socketFactory(rotated.svid(spiffe(id))));
        c.subscribeOwn();
        assertThat(reply(c.request(Kind.STATUS, status(), corr())).ok()).isTrue();
        assertThatThrownBy(() -> server.updateTrust("not a bundle")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aRemovedTrustAnchorKeepsOutEvenAResumedTlsSession() throws Exception {
        String id = TestPki.randomDeviceId();
        javax.net.ssl.SSLSocketFactory sameSessionCache = pki.socketFactory(pki.svid(spiffe(id)));
        connect(id, sameSessionCache).close();

        server.updateTrust(TestPki.create("the only CA now").caPem());

        assertThatThrownBy(() -> connect(id, sameSessionCache)).isInstanceOf(MqttException.class);
        assertThat(server.connectedDevices()).isEmpty();
    }

    @Test
    void aConnectionPolicyKeepsDevicesOut() throws Exception {
        String banned = TestPki.randomDeviceId();
        server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        server = new MqttEndpointServer(options(), this::handle, (id, auth) -> !id.equals(banned));
        port = server.start(vertx).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);

        assertThatThrownBy(() -> withSvid(banned))
                .isInstanceOfSatisfying(MqttException.class, e -> assertThat(e.getReasonCode()).isEqualTo(0x87));
        assertThat(withSvid(TestPki.randomDeviceId()).isConnected()).isTrue();
    }

    @Test
    void commandsReachASubscribedDevice() throws Exception {
        String id = TestPki.randomDeviceId();
        PahoTestClient c = withSvid(id);
        assertThat(server.sendCommand(id, "{\"v\":1}".getBytes())).isFalse();
        c.subscribeOwn();

        assertThat(server.sendCommand(id, "attest-now".getBytes())).isTrue();

        PahoTestClient.Received r = c.await(m -> m.topic().equals(topics.command(id)));
        assertThat(new String(r.payload(), StandardCharsets.UTF_8)).isEqualTo("attest-now");
        assertThat(server.sendCommand(TestPki.randomDeviceId(), new byte[1])).isFalse();
    }

    @Test
    void aDeviceThatStopsAcknowledgingIsNotSentMoreThanItsWindow() throws Exception {
        String id = TestPki.randomDeviceId();
        PahoTestClient c = withSvid(id);
        c.subscribeOwn();
        c.withholdAcks();

        for (int i = 0; i < 32; i++) {
            assertThat(server.sendCommand(id, new byte[] { (byte) i })).isTrue();
        }
        assertThat(server.sendCommand(id, new byte[] { 99 })).isFalse();
    }

    @Test
    void aRetainedSiteMessageReachesALateSubscriber() throws Exception {
        server.publishRetained(topics.siteBundle(), "bundle-1".getBytes());
        server.publishRetained(topics.siteBundle(), "bundle-2".getBytes());
        PahoTestClient c = withoutCert(TestPki.randomDeviceId());

        c.subscribe(topics.siteBundle());

        PahoTestClient.Received r = c.await(m -> m.topic().equals(topics.siteBundle()));
        assertThat(new String(r.payload(), StandardCharsets.UTF_8)).isEqualTo("bundle-2");
        assertThat(r.retained()).isTrue();
        assertThat(server.publishSite(topics.siteRevocations(), "rev".getBytes(), false)).isZero();
        c.subscribe("outpost/v1/site/#");
        assertThat(server.publishSite(topics.siteRevocations(), "rev".getBytes(), false)).isEqualTo(1);
        assertThat(c.await(m -> m.topic().equals(topics.siteRevocations())).retained()).isFalse();
        assertThatThrownBy(() -> server.publishSite(topics.command(c.deviceId()), new byte[1], false))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void disconnectDropsTheDevice() throws Exception {
        String id = TestPki.randomDeviceId();
        PahoTestClient c = withSvid(id);

        assertThat(server.disconnect(id, "revoked by operator")).isTrue();

        assertThat(c.disconnected().get(10, TimeUnit.SECONDS).getReturnCode()).isEqualTo(0x98);
        eventually(() -> server.connectedDevices().isEmpty());
        assertThat(server.disconnect(id, "again")).isFalse();
    }

    @Test
    void aSecondConnectionForTheSameDeviceTakesOver() throws Exception {
        String id = TestPki.randomDeviceId();
        PahoTestClient old = withSvid(id);
        PahoTestClient now = withSvid(id);
        now.subscribeOwn();

        assertThat(old.disconnected().get(10, TimeUnit.SECONDS).getReturnCode()).isEqualTo(0x8E);
        assertThat(reply(now.request(Kind.STATUS, status(), corr())).ok()).isTrue();
        assertThat(server.connectedDevices()).containsExactly(id);
        assertThat(server.stats().snapshot().takeovers()).isEqualTo(1);
    }

    @Test
    void aConnectionWithoutCertificateCannotTakeOverAnSvidHolder() throws Exception {
        String id = TestPki.randomDeviceId();
        PahoTestClient real = withSvid(id);

        assertThatThrownBy(() -> withoutCert(id))
                .isInstanceOfSatisfying(MqttException.class, e -> assertThat(e.getReasonCode()).isEqualTo(0x87));
        assertThat(real.isConnected()).isTrue();
    }

    @Test
    void closeDisconnectsEveryDevice() throws Exception {
        PahoTestClient c = withSvid(TestPki.randomDeviceId());

        server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);

        assertThat(c.disconnected().get(10, TimeUnit.SECONDS).getReturnCode()).isEqualTo(0x8B);
    }
}
