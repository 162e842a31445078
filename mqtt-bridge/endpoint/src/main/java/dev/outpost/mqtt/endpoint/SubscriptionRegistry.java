package dev.outpost.mqtt.endpoint;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.netty.handler.codec.mqtt.MqttQoS;

/**
 * One connection's granted subscriptions. The endpoint is not a broker: it publishes to a connection only what a
 * granted filter matches, and the ACL grants a handful of filters per device, so this stays tiny. Thread-safe: the
 * appliance publishes from any thread.
 */
final class SubscriptionRegistry {
    private final TopicAcl acl;
    private final Map<String, MqttQoS> filters = new ConcurrentHashMap<>();

    SubscriptionRegistry(TopicAcl acl) {
        this.acl = acl;
    }

    void add(String filter, MqttQoS qos) {
        filters.put(filter, qos);
    }

    boolean remove(String filter) {
        return filters.remove(filter) != null;
    }

    /** The highest QoS of the filters matching the topic, or null when none does. */
    MqttQoS qosFor(String topic) {
        MqttQoS best = null;
        for (Map.Entry<String, MqttQoS> e : filters.entrySet()) {
            if (acl.matches(e.getKey(), topic) && (best == null || e.getValue().value() > best.value())) {
                best = e.getValue();
            }
        }
        return best;
    }
}
