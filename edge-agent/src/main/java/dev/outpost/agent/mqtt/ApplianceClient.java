package dev.outpost.agent.mqtt;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

import javax.net.ssl.SSLContext;

import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.ProtocolException;
import dev.outpost.mqtt.protocol.Response;
import dev.outpost.mqtt.protocol.Topics;
import dev.outpost.mqtt.protocol.transport.NoDelaySocketFactory;

/**
 * One MQTT 5 session with the appliance (or the site broker): request/response by correlation data on the
 * topics {@link Addressing} names, unsolicited commands to a listener. Reconnecting is the daemon's job, not this class's.
 */
public final class ApplianceClient implements Requester, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ApplianceClient.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final HexFormat HEX = HexFormat.of();

    private final MqttClient client;
    private final Addressing addressing;
    private final Codec codec;
    private final Duration timeout;
    private final Map<String, CompletableFuture<byte[]>> pending = new ConcurrentHashMap<>();
    private final CompletableFuture<String> lost = new CompletableFuture<>();
    private boolean closed;
    private volatile Consumer<byte[]> commandListener = b -> { };
    private volatile Consumer<byte[]> bundleListener = b -> { };

    /** A session with the appliance's embedded endpoint. */
    public ApplianceClient(String host, int port, String deviceId, Topics topics, Codec codec, Duration timeout)
            throws MqttException {
        this(host, port, Addressing.endpoint(topics, deviceId), codec, timeout);
    }

    public ApplianceClient(String host, int port, Addressing addressing, Codec codec, Duration timeout)
            throws MqttException {
        this.client = new MqttClient("ssl://" + host + ":" + port, addressing.clientId(), new MemoryPersistence());
        this.addressing = addressing;
        this.codec = codec;
        this.timeout = timeout;
        client.setCallback(new Callback());
    }

    private interface MqttStep {
        void run() throws MqttException;
    }

    // The session's set-up waits (CONNACK, SUBACK) bounded by the request timeout: an appliance that completed TLS
    // and then stalled held connect() until it closed the socket, for ever if it never did; Paho's keep-alive only
    // starts with the session. Publishing is left unbounded: a large evidence message on a slow link may take longer
    // than the timeout to send, and the keep-alive ends a publish to a peer that stopped answering.
    private void bounded(MqttStep step) throws MqttException {
        client.setTimeToWait(Math.max(1_000, timeout.toMillis()));
        try {
            step.run();
        } finally {
            client.setTimeToWait(-1);
        }
    }

    /** Connects over TLS (with a client certificate when the context has one) and subscribes to our topics. */
    public void connect(SSLContext tls) throws MqttException {
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setSocketFactory(new NoDelaySocketFactory(tls.getSocketFactory()));
        o.setCleanStart(true);
        o.setAutomaticReconnect(false);
        o.setConnectionTimeout((int) Math.max(1, timeout.toSeconds()));
        o.setKeepAliveInterval(30);
        int qos = addressing.requestQos();
        bounded(() -> {
            client.connect(o);
            client.subscribe(addressing.command() == null
                    ? new MqttSubscription[] {new MqttSubscription(addressing.response(), qos)}
                    : new MqttSubscription[] {new MqttSubscription(addressing.response(), qos),
                        new MqttSubscription(addressing.command(), 1)});
        });
    }

    /**
     * Subscribes to the retained site bundle (a session with an SVID only); the current one arrives at once, later
     * ones when the appliance publishes them.
     */
    public void followSiteBundle(Consumer<byte[]> listener) throws MqttException {
        if (addressing.siteBundle() == null) {
            throw new IllegalStateException("an enrollment session cannot read the site bundle");
        }
        this.bundleListener = listener;
        bounded(() -> client.subscribe(new MqttSubscription[] {new MqttSubscription(addressing.siteBundle(), 1)}));
    }

    public void onCommand(Consumer<byte[]> listener) {
        this.commandListener = listener;
    }

    /** Completes with a reason when the connection drops. */
    public CompletableFuture<String> lost() {
        return lost;
    }

    public boolean isConnected() {
        return client.isConnected();
    }

    @Override
    public <T> T request(Kind kind, Object message, Class<T> replyType)
            throws ProtocolException, MqttException, TimeoutException {
        byte[] correlation = new byte[16];
        RANDOM.nextBytes(correlation);
        String key = HEX.formatHex(correlation);
        CompletableFuture<byte[]> reply = new CompletableFuture<>();
        pending.put(key, reply);
        try {
            MqttProperties props = new MqttProperties();
            props.setResponseTopic(addressing.response());
            props.setCorrelationData(correlation);
            MqttMessage m = new MqttMessage(codec.encode(message));
            m.setQos(addressing.requestQos());
            m.setProperties(props);
            client.publish(addressing.request(kind), m);
            byte[] payload = await(reply, lost, timeout, kind);
            Response r = codec.decodeResponse(payload);
            return codec.body(r, replyType);
        } finally {
            pending.remove(key);
        }
    }

    /** The reply; a TimeoutException that says whether the connection dropped first or nothing came in time. */
    static byte[] await(CompletableFuture<byte[]> reply, CompletableFuture<String> lost, Duration timeout, Kind kind)
            throws TimeoutException, ProtocolException {
        Object first;
        try {
            first = CompletableFuture.anyOf(reply, lost).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TimeoutException(kind.wire() + ": interrupted");
        } catch (ExecutionException e) {
            throw new ProtocolException(ErrorCode.INTERNAL, kind.wire() + ": " + e.getCause().getMessage());
        } catch (TimeoutException e) {
            throw new TimeoutException(kind.wire() + ": no reply within " + timeout.toSeconds() + " s");
        }
        // Outside the try: a lost connection is said as such, not as a reply that never came.
        if (first instanceof byte[] b) {
            return b;
        }
        throw new TimeoutException(kind.wire() + ": connection lost before the reply (" + lost.getNow("?") + ")");
    }

    // Once, and one caller at a time: the daemon's stop() closes the session from its own thread while the agent's
    // loop closes it on the way out, and two of Paho's forced disconnects at once left the session's sender, pinger
    // and callback threads running (the pinger's is not a daemon), logging keep-alive timeouts for ever: a set per
    // reconnect (ApplianceClientCloseTest).
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        lost.complete("closed");
        // Bounded: Paho's plain disconnect can wait forever on a half-dead connection. Forced in every state, a
        // connect still waiting for its CONNACK included: Paho refuses to close such a session, and its threads and
        // the caller's connect() went on.
        try {
            client.disconnectForcibly(0, 2_000);
        } catch (MqttException e) {
            LOG.debug("disconnect: {}", e.getMessage());
        }
        try {
            client.close(true);
        } catch (MqttException e) {
            LOG.debug("close: {}", e.getMessage());
        }
    }

    private final class Callback implements MqttCallback {
        @Override
        public void disconnected(MqttDisconnectResponse r) {
            String why = r.getReasonString() != null ? r.getReasonString()
                    : r.getException() != null ? r.getException().getMessage() : "reason " + r.getReturnCode();
            lost.complete(why);
        }

        @Override
        public void mqttErrorOccurred(MqttException e) {
            LOG.warn("MQTT error: {}", e.getMessage());
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            if (topic.equals(addressing.response())) {
                byte[] corr = message.getProperties() == null ? null : message.getProperties().getCorrelationData();
                CompletableFuture<byte[]> f = corr == null ? null : pending.get(HEX.formatHex(corr));
                if (f != null) {
                    f.complete(message.getPayload());
                } else {
                    LOG.debug("reply with unknown correlation data dropped");
                }
            } else if (topic.equals(addressing.command())) {
                commandListener.accept(message.getPayload());
            } else if (topic.equals(addressing.siteBundle())) {
                bundleListener.accept(message.getPayload());
            }
        }

        @Override
        public void deliveryComplete(IMqttToken token) {
        }

        @Override
        public void connectComplete(boolean reconnect, String serverURI) {
        }

        @Override
        public void authPacketArrived(int reasonCode, MqttProperties properties) {
        }
    }
}
