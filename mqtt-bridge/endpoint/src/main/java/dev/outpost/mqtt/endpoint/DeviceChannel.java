package dev.outpost.mqtt.endpoint;

import java.util.Optional;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * How the appliance reaches its devices: its own MQTT endpoint ({@link MqttEndpointServer}) or a client of the
 * site's broker ({@link BrokerClient}). Every method is thread-safe and never blocks.
 */
public interface DeviceChannel {
    /** Starts; completes with the listening port, or 0 for a client. */
    Future<Integer> start(Vertx vertx);

    Future<Void> close();

    /** Publishes on a site topic ({@code <prefix>/site/...}); returns how many receivers it reached, if known. */
    int publishSite(String topic, byte[] payload, boolean retain);

    boolean sendCommand(String deviceId, byte[] payload);

    /**
     * Cuts a device off now where the channel can; a broker client cannot close another client's connection, so
     * it tells the device on its command topic and the services refuse it from then on.
     */
    boolean disconnect(String deviceId, String reason);

    /** What the channel saw and refused since it was made; the appliance exports it as metrics. */
    EndpointStats stats();

    /**
     * Why the channel cannot carry device traffic right now (not listening, the site broker lost), for readiness;
     * empty when it can.
     */
    Optional<String> unavailable();
}
