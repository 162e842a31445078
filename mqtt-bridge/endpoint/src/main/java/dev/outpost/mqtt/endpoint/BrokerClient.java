package dev.outpost.mqtt.endpoint;

import java.io.ByteArrayInputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import dev.outpost.mqtt.protocol.BrokerClientIds;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.Limits;
import dev.outpost.mqtt.protocol.Topics;
import dev.outpost.mqtt.protocol.transport.NoDelaySocketFactory;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

/**
 * External broker mode: the appliance as a client of the site's broker (Mosquitto, see packaging/mosquitto).
 * The broker's ACL pins each device to its own topics and admits the non-enrollment kinds only from clients
 * with a node SVID, so a request's kind tells whether it came with one; everything else is checked here as in
 * the embedded endpoint: the reply goes to the topic of the device the request topic names, or for a request on
 * an enrollment topic ({@link Topics#enrollmentRequest}) to that enrolling client's reply topic (never to a
 * Response Topic the client chose), limits, strict decoding, rate limits for enrollment, idempotency by
 * correlation data.
 */
public final class BrokerClient implements DeviceChannel {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerClient.class);
    private static final char[] NO_PASSWORD = new char[0];

    /** Where the broker is and who the appliance is to it. */
    public record Options(String brokerUri, String clientCertChainPem, String clientKeyPem, String brokerTrustPem,
            Topics topics, Limits limits, RateLimit perDevice, RateLimit global, RateLimit authenticatedPerDevice) {
    }

    private final Options options;
    private final RequestHandler handler;
    private final KnownDevices known;
    private final Codec codec;
    // No connection per device here: requests in flight are counted per device id, forgotten when idle.
    private final Cache<String, AtomicInteger> inFlight = Caffeine.newBuilder().maximumSize(20_000)
            .expireAfterAccess(Duration.ofMinutes(10)).build();
    private volatile RequestPipeline pipeline;
    // One for the client's life, not per start: the appliance exports it once, when it wires the metrics.
    private final EndpointStats stats = new EndpointStats(() -> 0);
    // Why the connection to the broker went, for readiness: Paho's isConnected says only that it did.
    private volatile String lastLoss = "not connected yet";
    private final Map<String, byte[]> retained = new ConcurrentHashMap<>();
    private MqttAsyncClient client;
    // A burst of replies to every device of a large site; each waits at most until the broker acknowledges others.
    static final int MAX_BACKLOG = 100_000;
    private static final int MAX_IN_FLIGHT_PER_DEVICE = 8;
    private final PublishQueue outbound = new PublishQueue((topic, m) -> client.publish(topic, m), MAX_BACKLOG);

    public BrokerClient(Options options, RequestHandler handler) {
        this(options, handler, KnownDevices.NONE);
    }

    /** @param known which device ids the site already knows: their enrollment requests have capacity of their own */
    public BrokerClient(Options options, RequestHandler handler, KnownDevices known) {
        this.options = options;
        this.handler = handler;
        this.known = known;
        this.codec = new Codec(options.limits());
    }

    @Override
    public Future<Integer> start(Vertx vertx) {
        Promise<Integer> started = Promise.promise();
        pipeline = new RequestPipeline(vertx, codec, new RateLimiter(options.perDevice(), options.global(),
                options.authenticatedPerDevice(), known), new ResponseCache(10_000, Duration.ofMinutes(10)), handler,
                stats, MAX_IN_FLIGHT_PER_DEVICE);
        try {
            // The broker's client id rule (BrokerClientIds): the id must carry the prefix; the shipped broker
            // swaps it for the certificate's CN, so only the appliance's certificate can ever hold that id.
            client = new MqttAsyncClient(options.brokerUri(), BrokerClientIds.fresh(), new MemoryPersistence());
            client.setCallback(new Callback());
            MqttConnectionOptions o = new MqttConnectionOptions();
            o.setSocketFactory(new NoDelaySocketFactory(tls().getSocketFactory()));
            o.setCleanStart(true);
            o.setAutomaticReconnect(true);
            o.setAutomaticReconnectDelay(1, 30);
            o.setKeepAliveInterval(30);
            client.connect(o).waitForCompletion(30_000);
            subscribe();
            started.complete(0);
        } catch (Exception e) {
            started.fail(new IllegalStateException("cannot reach the site broker at " + options.brokerUri() + ": "
                    + e.getMessage(), e));
        }
        return started.future();
    }

    private void subscribe() throws MqttException {
        client.subscribe(new String[] {options.topics().prefix() + "/dev/+/req/+",
            options.topics().prefix() + "/enroll/+/+/req/+"}, new int[] {1, 1});
        // The broker keeps nothing for us (persistence off): republish what must be retained.
        for (Map.Entry<String, byte[]> e : retained.entrySet()) {
            publish(e.getKey(), e.getValue(), true, null);
        }
    }

    private SSLContext tls() throws Exception {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        Collection<? extends Certificate> chain = cf.generateCertificates(
                new ByteArrayInputStream(options.clientCertChainPem().getBytes(StandardCharsets.US_ASCII)));
        PemObject pem;
        try (PemReader r = new PemReader(new StringReader(options.clientKeyPem()))) {
            pem = r.readPemObject();
        }
        if (pem == null || !"PRIVATE KEY".equals(pem.getType())) {
            throw new IllegalArgumentException("the appliance's broker client key is not a PKCS#8 PEM block");
        }
        PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(pem.getContent()));
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("appliance", key, NO_PASSWORD, chain.toArray(new Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, NO_PASSWORD);
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        int i = 0;
        for (Certificate c : cf.generateCertificates(
                new ByteArrayInputStream(options.brokerTrustPem().getBytes(StandardCharsets.US_ASCII)))) {
            ts.setCertificateEntry("ca" + i++, c);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(ts);
        SSLContext ctx = SSLContext.getInstance("TLSv1.3");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), new SecureRandom());
        return ctx;
    }

    /** Whom a request is from and where its reply goes; the reply topic is never one the client named. */
    private record Addressed(String deviceId, Kind kind, String replyTo, boolean anonymous) {
    }

    // Device topics: from a device's own subtree. Enrollment topics: from the broker's anonymous listener, under
    // the enrolling client's id (its ACL binds %c), so the reply goes there and not to the device's own topics.
    private Optional<Addressed> address(String topic) {
        Topics t = options.topics();
        Optional<Addressed> a = t.parseRequest(topic).map(r -> new Addressed(r.deviceId(), r.kind(), t.response(r.deviceId()), false));
        if (a.isEmpty()) {
            a = t.parseEnrollmentRequest(topic).map(e -> new Addressed(e.deviceId(), e.kind(), e.response(t), true));
        }
        return a.filter(x -> DeviceIds.isValid(x.deviceId()));
    }

    private void onRequest(String topic, MqttMessage m) {
        Optional<Addressed> rt = address(topic);
        if (rt.isEmpty()) {
            LOG.info("dropped a message on {}: not a request topic of this appliance", RequestDispatcher.printable(topic));
            return;
        }
        String id = rt.get().deviceId();
        var kind = rt.get().kind();
        String replyTo = rt.get().replyTo();
        byte[] corr = m.getProperties() == null ? null : m.getProperties().getCorrelationData();
        if (rt.get().anonymous() && !kind.enrollment()) {
            // The shipped ACL lets no one publish this; a broker that does is not the one relied on below.
            reply(replyTo, corr, codec.error(ErrorCode.FORBIDDEN, kind.wire() + " needs a node SVID: not on enrollment topics"));
            return;
        }
        // Behind the broker's ACL, only a client with this device's SVID can publish a non-enrollment kind.
        boolean authenticated = !kind.enrollment();
        pipeline.handle(new RequestPipeline.Inbound(id, kind, authenticated, null, corr, m.getPayload(),
                inFlight.get(id, k -> new AtomicInteger())), (c, payload) -> reply(replyTo, c, payload));
    }

    private void reply(String topic, byte[] corr, byte[] payload) {
        publish(topic, payload, false, corr);
    }

    private boolean publish(String topic, byte[] payload, boolean retain, byte[] corr) {
        try {
            MqttMessage m = new MqttMessage(payload);
            m.setQos(1);
            m.setRetained(retain);
            if (corr != null) {
                MqttProperties p = new MqttProperties();
                p.setCorrelationData(corr);
                m.setProperties(p);
            }
            return outbound.offer(topic, m);
        } catch (RuntimeException e) {
            LOG.warn("publish on {} failed: {}", topic, e.getMessage());
            return false;
        }
    }

    @Override
    public int publishSite(String topic, byte[] payload, boolean retain) {
        if (!topic.startsWith(options.topics().prefix() + "/site/")) {
            throw new IllegalArgumentException("not a site topic: " + topic);
        }
        if (retain) {
            retained.put(topic, payload);
        }
        return publish(topic, payload, retain, null) ? 1 : 0;
    }

    @Override
    public boolean sendCommand(String deviceId, byte[] payload) {
        return publish(options.topics().command(deviceId), payload, false, null);
    }

    @Override
    public boolean disconnect(String deviceId, String reason) {
        return sendCommand(deviceId, codec.encode(Map.of("v", 1, "command", "revoked", "reason", reason)));
    }

    @Override
    public EndpointStats stats() {
        return stats;
    }

    @Override
    public Optional<String> unavailable() {
        MqttAsyncClient c = client;
        if (c != null && c.isConnected()) {
            return Optional.empty();
        }
        return Optional.of("not connected to the site broker at " + options.brokerUri() + ": " + lastLoss);
    }

    @Override
    public Future<Void> close() {
        try {
            if (client != null) {
                if (client.isConnected()) {
                    client.disconnect().waitForCompletion(5_000);
                }
                client.close(true);
            }
            return Future.succeededFuture();
        } catch (MqttException e) {
            return Future.failedFuture(e);
        }
    }

    private final class Callback implements MqttCallback {
        @Override
        public void disconnected(MqttDisconnectResponse r) {
            lastLoss = r.getReasonString() != null ? r.getReasonString()
                    : r.getException() != null ? String.valueOf(r.getException().getMessage()) : "disconnected";
            LOG.warn("lost the site broker: {}", r.getReasonString() != null ? r.getReasonString() : r.getException());
        }

        @Override
        public void mqttErrorOccurred(MqttException e) {
            LOG.warn("broker error: {}", e.getMessage());
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            onRequest(topic, message);
        }

        @Override
        public void deliveryComplete(IMqttToken token) {
            outbound.drain();
        }

        @Override
        public void connectComplete(boolean reconnect, String serverURI) {
            if (reconnect) {
                LOG.info("connected to the site broker again ({})", serverURI);
            }
            if (reconnect) {
                try {
                    subscribe();
                } catch (MqttException e) {
                    LOG.warn("resubscribing after reconnect failed: {}", e.getMessage());
                }
            }
        }

        @Override
        public void authPacketArrived(int reasonCode, MqttProperties properties) {
        }
    }
}
