package dev.outpost.agent.mqtt;

import dev.outpost.mqtt.protocol.BrokerClientIds;
import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.Topics;

/**
 * The client id one session sends and the topics it uses, which depend on where the agent connects
 * (docs/protocol.md): the appliance's embedded endpoint checks the client id against the device id, while a site
 * broker takes client ids from a namespace of their own and keeps enrolling clients under theirs.
 */
public final class Addressing {
    private final String clientId;
    private final Topics topics;
    private final String deviceId;
    // Null: the device's own topics; else the enrollment topics under this client id.
    private final String enrollingAs;
    private final int requestQos;

    private Addressing(String clientId, Topics topics, String deviceId, String enrollingAs, int requestQos) {
        this.clientId = clientId;
        this.topics = topics;
        this.deviceId = deviceId;
        this.enrollingAs = enrollingAs;
        this.requestQos = requestQos;
    }

    /** The embedded endpoint: client id = device id, with or without SVID; the device's own topics. */
    public static Addressing endpoint(Topics topics, String deviceId) {
        return new Addressing(deviceId, topics, deviceId, null, 0);
    }

    /**
     * A site broker's mTLS listener: a fresh client id that the broker replaces with the SVID's CN (the device
     * id), so no other client can hold it; the device's own topics.
     */
    public static Addressing brokerWithSvid(Topics topics, String deviceId) {
        return new Addressing(BrokerClientIds.fresh(), topics, deviceId, null, 1);
    }

    /**
     * A site broker's enrollment listener: a fresh, unguessable client id per connection and the enrollment
     * topics under it, the only ones the broker opens to a client without certificate; no command topic.
     */
    public static Addressing brokerEnrollment(Topics topics, String deviceId) {
        String id = BrokerClientIds.fresh();
        return new Addressing(id, topics, deviceId, id, 1);
    }

    public String clientId() {
        return clientId;
    }

    /**
     * The QoS of requests and of the reply subscription (docs/protocol.md). 0 on the embedded endpoint: a session
     * there lasts as long as its TLS connection (clean start, Session Expiry 0), so what a dropped connection loses
     * QoS 1 loses too (the request times out and the agent starts over), and on a live connection TCP already
     * delivers; QoS 1 would only add a PUBACK each way to every message, more TLS records and wake-ups on both ends.
     * 1 through a site broker, which stands between two connections and may drop QoS 0 messages under pressure.
     */
    public int requestQos() {
        return requestQos;
    }

    String request(Kind kind) {
        return enrollingAs == null ? topics.request(deviceId, kind) : topics.enrollmentRequest(enrollingAs, deviceId, kind);
    }

    String response() {
        return enrollingAs == null ? topics.response(deviceId) : topics.enrollmentResponse(enrollingAs, deviceId);
    }

    /** The retained site bundle; null for an enrollment session, which may read nothing but its replies. */
    String siteBundle() {
        return enrollingAs == null ? topics.siteBundle() : null;
    }

    /** Null when the session has no command topic. */
    String command() {
        return enrollingAs == null ? topics.command(deviceId) : null;
    }
}
