package dev.outpost.mqtt.endpoint;

import java.security.cert.X509Certificate;
import java.util.concurrent.atomic.AtomicInteger;

import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.mqtt.MqttEndpoint;
import io.vertx.mqtt.messages.codes.MqttDisconnectReasonCode;

/**
 * An accepted MQTT connection and who it acts for. Writes go through the connection's own context because Vert.x
 * MQTT endpoints are not thread-safe and the appliance calls in from workers.
 */
final class DeviceConnection {
    private final MqttEndpoint endpoint;
    private final Context context;
    private final String deviceId;
    private final boolean authenticated;
    private final X509Certificate certificate;
    private final SubscriptionRegistry subscriptions;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final int enforcedKeepAliveSeconds;
    // Vert.x refuses remoteAddress() once closed, and the close is when we log it
    private final String remote;
    private volatile long lastSeenNanos = System.nanoTime();
    // Vert.x only numbers QoS 1 publishes itself when no properties are given; replies need Correlation Data
    private int nextPacketId = 1;

    DeviceConnection(MqttEndpoint endpoint, Context context, String deviceId, boolean authenticated,
            X509Certificate certificate, SubscriptionRegistry subscriptions, int enforcedKeepAliveSeconds) {
        this.endpoint = endpoint;
        this.context = context;
        this.deviceId = deviceId;
        this.authenticated = authenticated;
        this.certificate = certificate;
        this.subscriptions = subscriptions;
        this.enforcedKeepAliveSeconds = enforcedKeepAliveSeconds;
        this.remote = String.valueOf(endpoint.remoteAddress());
    }

    String deviceId() {
        return deviceId;
    }

    boolean authenticated() {
        return authenticated;
    }

    X509Certificate certificate() {
        return certificate;
    }

    SubscriptionRegistry subscriptions() {
        return subscriptions;
    }

    MqttEndpoint endpoint() {
        return endpoint;
    }

    String remote() {
        return remote;
    }

    AtomicInteger inFlight() {
        return inFlight;
    }

    void seen() {
        lastSeenNanos = System.nanoTime();
    }

    /** Idle longer than 1.5 times the keep-alive the endpoint set itself (Vert.x enforces the client's own). */
    boolean idleTooLong(long nowNanos) {
        return enforcedKeepAliveSeconds > 0
                && nowNanos - lastSeenNanos > enforcedKeepAliveSeconds * 1_500_000_000L;
    }

    void run(Runnable r) {
        if (Vertx.currentContext() == context) {
            r.run();
        } else {
            context.runOnContext(v -> r.run());
        }
    }

    /**
     * Publishes when a granted subscription matches the topic.
     *
     * @return whether a subscription matched and the message was handed to the connection
     */
    boolean publish(String topic, byte[] payload, boolean retain, MqttProperties properties) {
        MqttQoS qos = subscriptions.qosFor(topic);
        if (qos == null || !endpoint.isConnected()) {
            return false;
        }
        MqttQoS out = qos.value() >= 1 ? MqttQoS.AT_LEAST_ONCE : MqttQoS.AT_MOST_ONCE;
        Buffer body = Buffer.buffer(payload);
        run(() -> {
            if (!endpoint.isConnected()) {
                return;
            }
            int id = out == MqttQoS.AT_MOST_ONCE ? 0 : nextPacketId();
            endpoint.publish(topic, body, out, false, retain, id, properties);
        });
        return true;
    }

    private int nextPacketId() {
        int id = nextPacketId;
        nextPacketId = id == 65535 ? 1 : id + 1;
        return id;
    }

    /** Sends an MQTT 5 DISCONNECT with the reason and closes; completes once done on the connection's context. */
    Future<Void> disconnect(MqttDisconnectReasonCode code, String reason) {
        Promise<Void> done = Promise.promise();
        run(() -> {
            try {
                if (endpoint.isConnected()) {
                    MqttProperties p = new MqttProperties();
                    p.add(new MqttProperties.StringProperty(MqttProperties.MqttPropertyType.REASON_STRING.value(),
                            reason));
                    endpoint.disconnect(code, p);
                } else {
                    endpoint.close();
                }
            } catch (RuntimeException e) {
                // already closing: closing again is all that is left to do
                try {
                    endpoint.close();
                } catch (RuntimeException ignored) {
                    // closed
                }
            }
            done.tryComplete();
        });
        return done.future();
    }

    void close() {
        run(() -> {
            try {
                endpoint.close();
            } catch (RuntimeException ignored) {
                // closed already
            }
        });
    }
}
