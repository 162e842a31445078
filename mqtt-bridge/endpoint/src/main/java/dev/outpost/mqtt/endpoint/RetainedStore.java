package dev.outpost.mqtt.endpoint;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The last retained message of each site topic, handed to a subscriber when it subscribes; Vert.x MQTT keeps none.
 * Only the appliance writes here (devices cannot publish retained messages), and only site topics, so it stays small;
 * the cap is a guard against a caller bug.
 */
final class RetainedStore {
    static final int MAX_TOPICS = 64;

    private final Map<String, byte[]> messages = new ConcurrentHashMap<>();

    /** An empty payload clears the topic, as in MQTT. */
    synchronized void put(String topic, byte[] payload) {
        if (payload.length == 0) {
            messages.remove(topic);
            return;
        }
        if (!messages.containsKey(topic) && messages.size() >= MAX_TOPICS) {
            throw new IllegalStateException("more than " + MAX_TOPICS + " retained site topics");
        }
        messages.put(topic, payload.clone());
    }

    record Retained(String topic, byte[] payload) {
    }

    List<Retained> matching(java.util.function.Predicate<String> topicMatches) {
        List<Retained> out = new ArrayList<>();
        messages.forEach((t, p) -> {
            if (topicMatches.test(t)) {
                out.add(new Retained(t, p));
            }
        });
        return out;
    }
}
