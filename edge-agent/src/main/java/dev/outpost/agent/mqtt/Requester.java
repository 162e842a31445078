package dev.outpost.agent.mqtt;

import java.util.concurrent.TimeoutException;

import org.eclipse.paho.mqttv5.common.MqttException;

import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.ProtocolException;

/**
 * One request/response exchange with the appliance over some MQTT session. The agent's is {@link ApplianceClient}
 * (Paho); the load generator has its own, so thousands of simulated devices run the agent's attestation code.
 */
public interface Requester {
    /**
     * Sends a request and waits for its reply; a refusal comes back as a ProtocolException with the appliance's
     * code and reason.
     */
    <T> T request(Kind kind, Object message, Class<T> replyType) throws ProtocolException, MqttException, TimeoutException;
}
