package dev.outpost.mqtt.endpoint;

import java.security.cert.X509Certificate;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
    private static final Logger log = LoggerFactory.getLogger(DeviceConnection.class);
    private final MqttEndpoint endpoint;
    private final Context context;
    private final String deviceId;
    private final boolean authenticated;
    private final X509Certificate certificate;
    private final SubscriptionRegistry subscriptions;
    private final AtomicInteger inFlight = new AtomicInteger();
    // QoS 1 publishes not yet acknowledged: MQTT 5's Receive Maximum, and the bound on what a device that stops
    // reading can make us buffer (Vert.x queues writes without limit)
    private final AtomicInteger unacknowledged = new AtomicInteger();
    private final Set<Integer> awaitingAck = new HashSet<>();
    private final int maxUnacknowledged;
    private final int enforcedKeepAliveSeconds;
    // Vert.x refuses remoteAddress() once closed, and the close is when we log it
    private final String remote;
    private volatile long lastSeenNanos = System.nanoTime();
    // Vert.x only numbers QoS 1 publishes itself when no properties are given; replies need Correlation Data
    private int nextPacketId = 1;

    DeviceConnection(MqttEndpoint endpoint, Context context, String deviceId, boolean authenticated,
            X509Certificate certificate, SubscriptionRegistry subscriptions, int enforcedKeepAliveSeconds,
            int maxUnacknowledged) {
        this.endpoint = endpoint;
        this.context = context;
        this.deviceId = deviceId;
        this.authenticated = authenticated;
        this.certificate = certificate;
        this.subscriptions = subscriptions;
        this.enforcedKeepAliveSeconds = enforcedKeepAliveSeconds;
        this.maxUnacknowledged = maxUnacknowledged;
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
     * Publishes when a granted subscription matches the topic, and the device is acknowledging what it was sent.
     *
     * @return whether a subscription matched and the message was handed to the connection
     */
    boolean publish(String topic, byte[] payload, boolean retain, MqttProperties properties) {
        MqttQoS qos = subscriptions.qosFor(topic);
        if (qos == null || !endpoint.isConnected()) {
            return false;
        }
        MqttQoS out = qos.value() >= 1 ? MqttQoS.AT_LEAST_ONCE : MqttQoS.AT_MOST_ONCE;
        if (out == MqttQoS.AT_LEAST_ONCE && unacknowledged.incrementAndGet() > maxUnacknowledged) {
            unacknowledged.decrementAndGet();
            log.warn("device {}: {} publishes unacknowledged; dropping one on {}", deviceId, maxUnacknowledged, topic);
            return false;
        }
        Buffer body = Buffer.buffer(payload);
        run(() -> {
            if (!endpoint.isConnected()) {
                return;
            }
            int id = 0;
            if (out == MqttQoS.AT_LEAST_ONCE) {
                id = nextPacketId();
                awaitingAck.add(id);
            }
            endpoint.publish(topic, body, out, false, retain, id, properties);
        });
        return true;
    }

    /** A PUBACK; on the connection's context. Unknown ids are ignored so a device cannot free slots it never used. */
    void acknowledged(int packetId) {
        seen();
        if (awaitingAck.remove(packetId)) {
            unacknowledged.decrementAndGet();
        }
    }

    private int nextPacketId() {
        int id;
        do {
            id = nextPacketId;
            nextPacketId = id == 65535 ? 1 : id + 1;
        } while (awaitingAck.contains(id));
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
