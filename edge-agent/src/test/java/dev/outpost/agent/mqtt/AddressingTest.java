package dev.outpost.agent.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.Topics;

/** Where the agent connects decides its client id, its topics and the QoS of its requests (docs/protocol.md). */
class AddressingTest {
    private static final Topics TOPICS = new Topics("outpost/v1");
    private static final String DEVICE = "ab".repeat(32);

    @Test
    void theEmbeddedEndpointTakesRequestsAtQos0UnderTheDeviceId() {
        Addressing a = Addressing.endpoint(TOPICS, DEVICE);
        assertThat(a.clientId()).isEqualTo(DEVICE);
        assertThat(a.requestQos()).as("no PUBACKs on a session that ends with its connection").isZero();
        assertThat(a.request(Kind.EVIDENCE)).isEqualTo(TOPICS.request(DEVICE, Kind.EVIDENCE));
        assertThat(a.command()).isNotNull();
    }

    @Test
    void aSiteBrokerGetsQos1AndAClientIdOfItsOwn() {
        Addressing svid = Addressing.brokerWithSvid(TOPICS, DEVICE);
        Addressing enrolling = Addressing.brokerEnrollment(TOPICS, DEVICE);
        assertThat(svid.requestQos()).isEqualTo(1);
        assertThat(enrolling.requestQos()).isEqualTo(1);
        assertThat(svid.clientId()).isNotEqualTo(DEVICE).startsWith("outpost-client-");
        assertThat(enrolling.command()).as("an enrolling client has no command topic").isNull();
        assertThat(enrolling.siteBundle()).isNull();
    }
}
