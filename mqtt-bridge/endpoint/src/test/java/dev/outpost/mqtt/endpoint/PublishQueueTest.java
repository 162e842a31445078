package dev.outpost.mqtt.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.eclipse.paho.mqttv5.client.MqttClientException;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.junit.jupiter.api.Test;

/** The queue's own rules; ExternalBrokerTest and the load generator's Mosquitto runs cover it with a real broker. */
class PublishQueueTest {
    /** Paho's behaviour: a fixed number of publishes in flight, the next refused with REASON_CODE_MAX_INFLIGHT. */
    static final class Window implements PublishQueue.Sender {
        final int size;
        final List<String> inFlight = new ArrayList<>();
        final List<String> delivered = new ArrayList<>();

        Window(int size) {
            this.size = size;
        }

        @Override
        public void send(String topic, MqttMessage message) throws MqttException {
            if (inFlight.size() >= size) {
                throw new MqttException(MqttClientException.REASON_CODE_MAX_INFLIGHT);
            }
            inFlight.add(topic);
        }

        void ack() {
            delivered.add(inFlight.remove(0));
        }
    }

    @Test
    void whatTheWindowRefusesWaitsAndGoesInOrder() {
        Window w = new Window(2);
        PublishQueue q = new PublishQueue(w, 100);
        for (int i = 0; i < 5; i++) {
            assertThat(q.offer("t" + i, new MqttMessage())).isTrue();
        }
        assertThat(w.inFlight).containsExactly("t0", "t1");
        assertThat(q.backlog()).isEqualTo(3);
        while (!w.inFlight.isEmpty()) {
            w.ack();
            q.drain();
        }
        assertThat(w.delivered).containsExactly("t0", "t1", "t2", "t3", "t4");
        assertThat(q.backlog()).isZero();
    }

    @Test
    void aFullBacklogDropsAndSaysSo() {
        Window w = new Window(0);
        PublishQueue q = new PublishQueue(w, 3);
        assertThat(q.offer("a", new MqttMessage())).isTrue();
        assertThat(q.offer("b", new MqttMessage())).isTrue();
        assertThat(q.offer("c", new MqttMessage())).isTrue();
        assertThat(q.offer("d", new MqttMessage())).isFalse();
        assertThat(q.backlog()).isEqualTo(3);
    }

    @Test
    void anotherFailureDropsThatMessageOnly() {
        List<String> sent = new ArrayList<>();
        PublishQueue q = new PublishQueue((topic, m) -> {
            if (topic.equals("bad")) {
                throw new MqttException(MqttClientException.REASON_CODE_CLIENT_NOT_CONNECTED);
            }
            sent.add(topic);
        }, 10);
        q.offer("bad", new MqttMessage());
        q.offer("good", new MqttMessage());
        assertThat(sent).containsExactly("good");
        assertThat(q.backlog()).isZero();
    }
}
