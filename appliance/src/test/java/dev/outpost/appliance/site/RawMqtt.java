package dev.outpost.appliance.site;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;

import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

import dev.outpost.agent.state.AgentState;
import dev.outpost.agent.tls.TlsContexts;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.Response;
import dev.outpost.mqtt.protocol.Topics;

/** A bare MQTT 5 client that can send what a well-behaved agent never would. */
final class RawMqtt implements AutoCloseable {
    private final MqttClient client;
    private final String clientId;
    private final Topics topics = new Topics();
    private volatile CompletableFuture<byte[]> reply = new CompletableFuture<>();
    private final java.util.concurrent.BlockingQueue<byte[]> other = new java.util.concurrent.LinkedBlockingQueue<>();

    RawMqtt(int port, String clientId, Path caPem) throws Exception {
        this.clientId = clientId;
        client = new MqttClient("ssl://127.0.0.1:" + port, clientId, new MemoryPersistence());
        client.setCallback(new MqttCallback() {
            @Override
            public void disconnected(MqttDisconnectResponse r) {
            }

            @Override
            public void mqttErrorOccurred(MqttException e) {
            }

            @Override
            public void messageArrived(String topic, MqttMessage m) {
                if (topic.equals(topics.response(clientId))) {
                    reply.complete(m.getPayload());
                } else {
                    other.add(m.getPayload());
                }
            }

            @Override
            public void deliveryComplete(IMqttToken t) {
            }

            @Override
            public void connectComplete(boolean reconnect, String uri) {
            }

            @Override
            public void authPacketArrived(int code, MqttProperties p) {
            }
        });
        SSLContext tls = TlsContexts.context(TlsContexts.trusting(AgentState.certificates(Files.readString(caPem))), null);
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setSocketFactory(tls.getSocketFactory());
        client.connect(o);
        client.subscribe(topics.response(clientId), 1);
    }

    /** Publishes raw bytes on a topic, asking for the reply on our own response topic, and waits for it. */
    Response send(String topic, byte[] payload) throws Exception {
        reply = new CompletableFuture<>();
        byte[] corr = new byte[8];
        new SecureRandom().nextBytes(corr);
        MqttProperties p = new MqttProperties();
        p.setResponseTopic(topics.response(clientId));
        p.setCorrelationData(corr);
        MqttMessage m = new MqttMessage(payload);
        m.setQos(1);
        m.setProperties(p);
        client.publish(topic, m);
        return new Codec().decodeResponse(reply.get(20, TimeUnit.SECONDS));
    }

    void subscribe(String topic) throws MqttException {
        client.subscribe(topic, 1);
    }

    /** The next message on a subscribed topic other than our replies, or null after the wait. */
    byte[] next(java.time.Duration wait) throws InterruptedException {
        return other.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    Topics topics() {
        return topics;
    }

    @Override
    public void close() throws MqttException {
        if (client.isConnected()) {
            client.disconnect();
        }
        client.close(true);
    }

    static List<String> ids() {
        return List.of("a".repeat(64), "b".repeat(64));
    }
}
