package dev.outpost.mqtt.endpoint;

import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import javax.net.ssl.SSLSocketFactory;

import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.Topics;

/**
 * A real Paho MQTT v5 client as a device: requests with Response Topic and Correlation Data, replies matched by
 * correlation, everything received also queued. Waits are futures with timeouts, never sleeps.
 */
public final class PahoTestClient implements AutoCloseable {
    public static final Duration TIMEOUT = Duration.ofSeconds(10);

    /** A message as received. */
    public record Received(String topic, byte[] payload, boolean retained, byte[] correlationData) {
    }

    private final MqttAsyncClient client;
    private final String deviceId;
    private final Topics topics;
    private final Map<String, CompletableFuture<byte[]>> pending = new ConcurrentHashMap<>();
    private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private final CompletableFuture<MqttDisconnectResponse> disconnected = new CompletableFuture<>();

    private PahoTestClient(MqttAsyncClient client, String deviceId, Topics topics) {
        this.client = client;
        this.deviceId = deviceId;
        this.topics = topics;
    }

    /** Connects, or throws the MqttException carrying the CONNACK reason code (or the TLS failure as its cause). */
    public static PahoTestClient connect(int port, String clientId, SSLSocketFactory tls, Topics topics)
            throws MqttException {
        MqttAsyncClient c = new MqttAsyncClient("ssl://127.0.0.1:" + port, clientId, new MemoryPersistence());
        PahoTestClient t = new PahoTestClient(c, clientId, topics);
        c.setCallback(t.callback());
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setSocketFactory(tls);
        o.setCleanStart(true);
        // Paho keeps nothing without it, and the endpoint keeps no sessions either
        o.setSessionExpiryInterval(0L);
        o.setAutomaticReconnect(false);
        o.setKeepAliveInterval(30);
        o.setConnectionTimeout((int) TIMEOUT.toSeconds());
        try {
            c.connect(o).waitForCompletion(TIMEOUT.toMillis());
        } catch (MqttException e) {
            closeQuietly(c);
            throw e;
        }
        return t;
    }

    private MqttCallback callback() {
        return new MqttCallback() {
            @Override
            public void disconnected(MqttDisconnectResponse r) {
                disconnected.complete(r);
            }

            @Override
            public void mqttErrorOccurred(MqttException e) {
            }

            @Override
            public void messageArrived(String topic, MqttMessage m) {
                byte[] corr = m.getProperties() == null ? null : m.getProperties().getCorrelationData();
                received.add(new Received(topic, m.getPayload(), m.isRetained(), corr));
                if (corr != null) {
                    CompletableFuture<byte[]> f = pending.remove(HexFormat.of().formatHex(corr));
                    if (f != null) {
                        f.complete(m.getPayload());
                    }
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
        };
    }

    public String deviceId() {
        return deviceId;
    }

    /** Subscribes at QoS 1; the SUBACK reason codes, one per filter. */
    public int[] subscribe(String... filters) throws MqttException {
        MqttSubscription[] subs = new MqttSubscription[filters.length];
        for (int i = 0; i < filters.length; i++) {
            subs[i] = new MqttSubscription(filters[i], 1);
        }
        IMqttToken t = client.subscribe(subs);
        try {
            t.waitForCompletion(TIMEOUT.toMillis());
        } catch (MqttException e) {
            // Paho fails the token on a refused filter; the codes are still on it
            if (t.getReasonCodes() == null) {
                throw e;
            }
        }
        return t.getReasonCodes();
    }

    public void subscribeOwn() throws MqttException {
        subscribe(topics.response(deviceId), topics.command(deviceId));
    }

    /** Sends a request of this kind from this device, the reply future keyed by the correlation data. */
    public CompletableFuture<byte[]> request(Kind kind, byte[] payload, byte[] correlation) throws MqttException {
        return publishRequest(topics.request(deviceId, kind), payload, topics.response(deviceId), correlation);
    }

    /** Any publish with any response topic and correlation; the reply future when correlation is given. */
    public CompletableFuture<byte[]> publishRequest(String topic, byte[] payload, String responseTopic,
            byte[] correlation) throws MqttException {
        CompletableFuture<byte[]> f = new CompletableFuture<>();
        MqttProperties p = new MqttProperties();
        if (responseTopic != null) {
            p.setResponseTopic(responseTopic);
        }
        if (correlation != null) {
            p.setCorrelationData(correlation);
            pending.put(HexFormat.of().formatHex(correlation), f);
        }
        MqttMessage m = new MqttMessage(payload);
        m.setQos(1);
        m.setProperties(p);
        client.publish(topic, m);
        return f;
    }

    /** The next received message matching, within the timeout. */
    public Received await(Predicate<Received> which) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            Received r = received.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
            if (r == null) {
                throw new AssertionError("no matching message within " + TIMEOUT);
            }
            if (which.test(r)) {
                return r;
            }
        }
    }

    /** From now on, received QoS 1 messages are never acknowledged: a device that stopped reading. */
    public void withholdAcks() {
        client.setManualAcks(true);
    }

    public CompletableFuture<MqttDisconnectResponse> disconnected() {
        return disconnected;
    }

    public boolean isConnected() {
        return client.isConnected();
    }

    @Override
    public void close() {
        closeQuietly(client);
    }

    private static void closeQuietly(MqttAsyncClient c) {
        try {
            if (c.isConnected()) {
                c.disconnect(2000).waitForCompletion(TIMEOUT.toMillis());
            }
        } catch (MqttException e) {
            // the server may have closed first
        }
        try {
            c.close(true);
        } catch (MqttException e) {
            // nothing more to release
        }
    }
}
