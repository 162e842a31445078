package dev.outpost.mqtt.endpoint;

import java.util.ArrayDeque;
import java.util.Queue;

import org.eclipse.paho.mqttv5.client.MqttClientException;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes through Paho without losing what its in-flight window refuses. Paho allows only as many QoS 1
 * publishes in flight as the broker's Receive Maximum and throws for the next one; the appliance answers every
 * device through one connection, so under load (10,000 devices through Mosquitto) replies were dropped that way
 * and devices timed out. Here the refused message waits, in order, and goes when an acknowledgement frees a
 * slot. The backlog is bounded: past it a message is dropped with a warning and the device's retry recovers.
 */
final class PublishQueue {
    private static final Logger LOG = LoggerFactory.getLogger(PublishQueue.class);

    /** Hands one message to the MQTT client. */
    interface Sender {
        void send(String topic, MqttMessage message) throws MqttException;
    }

    private record Outgoing(String topic, MqttMessage message) {
    }

    private final Sender sender;
    private final int maxBacklog;
    private final Queue<Outgoing> backlog = new ArrayDeque<>();

    PublishQueue(Sender sender, int maxBacklog) {
        this.sender = sender;
        this.maxBacklog = maxBacklog;
    }

    /** Queues the message and sends what the window allows; false when the backlog is full (dropped). */
    synchronized boolean offer(String topic, MqttMessage message) {
        if (backlog.size() >= maxBacklog) {
            LOG.warn("publish on {} dropped: {} messages already wait for the broker's window", topic, backlog.size());
            return false;
        }
        backlog.add(new Outgoing(topic, message));
        drain();
        return true;
    }

    /** Sends queued messages until the window is full; call when a delivery completes. */
    synchronized void drain() {
        for (Outgoing o = backlog.peek(); o != null; o = backlog.peek()) {
            try {
                sender.send(o.topic(), o.message());
            } catch (MqttException e) {
                if (e.getReasonCode() == MqttClientException.REASON_CODE_MAX_INFLIGHT) {
                    return; // the next acknowledgement calls drain() again
                }
                LOG.warn("publish on {} failed: {}", o.topic(), e.getMessage());
            } catch (RuntimeException e) {
                LOG.warn("publish on {} failed: {}", o.topic(), e.getMessage());
            }
            backlog.poll();
        }
    }

    synchronized int backlog() {
        return backlog.size();
    }
}
