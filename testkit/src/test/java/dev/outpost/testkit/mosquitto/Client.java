package dev.outpost.testkit.mosquitto;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
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

/**
 * A Paho MQTT 5 client that reports what the broker answered (reason codes) instead of hiding it behind
 * exceptions, and collects every message it receives, so tests can assert both delivery and its absence.
 */
final class Client implements AutoCloseable {
    static final long TIMEOUT_MS = 5_000;

    record Received(String topic, String payload, MqttProperties properties) {
    }

    final String id;
    private final MqttAsyncClient paho;
    final LinkedBlockingQueue<Received> inbox = new LinkedBlockingQueue<>();
    final LinkedBlockingQueue<MqttDisconnectResponse> disconnects = new LinkedBlockingQueue<>();

    private Client(String uri, String clientId) throws MqttException {
        id = clientId;
        paho = new MqttAsyncClient(uri, clientId, new MemoryPersistence());
        paho.setCallback(new MqttCallback() {
            @Override
            public void disconnected(MqttDisconnectResponse r) {
                disconnects.add(r);
            }

            @Override
            public void mqttErrorOccurred(MqttException e) {
            }

            @Override
            public void messageArrived(String topic, MqttMessage m) {
                inbox.add(new Received(topic, new String(m.getPayload(), StandardCharsets.UTF_8), m.getProperties()));
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
        });
    }

    /** Connects or throws: the MqttException carries the CONNACK reason or the TLS failure as its cause. */
    static Client connect(String uri, String clientId, SSLSocketFactory tls) throws MqttException {
        return connect(uri, clientId, tls, null);
    }

    static Client connect(String uri, String clientId, SSLSocketFactory tls, String username) throws MqttException {
        Client c = new Client(uri, clientId);
        MqttConnectionOptions o = new MqttConnectionOptions();
        if (username != null) {
            o.setUserName(username);
        }
        o.setSocketFactory(tls);
        o.setCleanStart(true);
        o.setAutomaticReconnect(false);
        o.setConnectionTimeout(5);
        o.setKeepAliveInterval(30);
        try {
            c.paho.connect(o).waitForCompletion(TIMEOUT_MS);
        } catch (MqttException e) {
            c.closeQuietly();
            throw e;
        }
        return c;
    }

    /** SUBACK reason codes, one per filter (QoS 1 requested). */
    int[] subscribe(String... filters) throws MqttException {
        MqttSubscription[] subs = new MqttSubscription[filters.length];
        for (int i = 0; i < filters.length; i++) {
            subs[i] = new MqttSubscription(filters[i], 1);
        }
        IMqttToken t = paho.subscribe(subs);
        return codes(t);
    }

    /** PUBACK reason code of a QoS 1 publish. */
    int publish(String topic, String payload, boolean retained) throws MqttException {
        return publish(topic, payload, retained, null, null);
    }

    int publish(String topic, String payload, boolean retained, String responseTopic, byte[] correlation)
            throws MqttException {
        MqttMessage m = new MqttMessage(payload.getBytes(StandardCharsets.UTF_8), 1, retained, new MqttProperties());
        if (responseTopic != null) {
            m.getProperties().setResponseTopic(responseTopic);
            m.getProperties().setCorrelationData(correlation);
        }
        return codes(paho.publish(topic, m))[0];
    }

    // Paho marks a token with a failure reason code (>= 0x80) as failed; the code itself is what we assert.
    private static int[] codes(IMqttToken t) throws MqttException {
        try {
            t.waitForCompletion(TIMEOUT_MS);
        } catch (MqttException e) {
            if (t.getReasonCodes() == null || t.getReasonCodes().length == 0) {
                if (e.getReasonCode() >= 0x80 && e.getReasonCode() <= 0xA2) {
                    return new int[] {e.getReasonCode()};
                }
                throw e;
            }
        }
        return t.getReasonCodes();
    }

    /** The next message, or null when none arrives in {@code ms}. */
    Received poll(long ms) throws InterruptedException {
        return inbox.poll(ms, TimeUnit.MILLISECONDS);
    }

    /**
     * The reason the broker gave for dropping us, waiting at most {@link #TIMEOUT_MS}; Paho reports a server
     * DISCONNECT either as a return code or as an exception carrying it.
     */
    int disconnectReason() throws InterruptedException {
        MqttDisconnectResponse r = disconnects.poll(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        if (r == null) {
            return -1;
        }
        if (r.getReturnCode() != 0 || r.getException() == null) {
            return r.getReturnCode();
        }
        return r.getException().getReasonCode();
    }

    boolean isConnected() {
        return paho.isConnected();
    }

    private void closeQuietly() {
        try {
            if (paho.isConnected()) {
                paho.disconnect().waitForCompletion(TIMEOUT_MS);
            }
        } catch (MqttException ignored) {
            // the test is over with this client either way
        }
        try {
            paho.close(true);
        } catch (MqttException ignored) {
            // nothing left to release
        }
    }

    @Override
    public void close() {
        closeQuietly();
    }
}
