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

    private Addressing(String clientId, Topics topics, String deviceId, String enrollingAs) {
        this.clientId = clientId;
        this.topics = topics;
        this.deviceId = deviceId;
        this.enrollingAs = enrollingAs;
    }

    /** The embedded endpoint: client id = device id, with or without SVID; the device's own topics. */
    public static Addressing endpoint(Topics topics, String deviceId) {
        return new Addressing(deviceId, topics, deviceId, null);
    }

    /**
     * A site broker's mTLS listener: a fresh client id that the broker replaces with the SVID's CN (the device
     * id), so no other client can hold it; the device's own topics.
     */
    public static Addressing brokerWithSvid(Topics topics, String deviceId) {
        return new Addressing(BrokerClientIds.fresh(), topics, deviceId, null);
    }

    /**
     * A site broker's enrollment listener: a fresh, unguessable client id per connection and the enrollment
     * topics under it, the only ones the broker opens to a client without certificate; no command topic.
     */
    public static Addressing brokerEnrollment(Topics topics, String deviceId) {
        String id = BrokerClientIds.fresh();
        return new Addressing(id, topics, deviceId, id);
    }

    public String clientId() {
        return clientId;
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
