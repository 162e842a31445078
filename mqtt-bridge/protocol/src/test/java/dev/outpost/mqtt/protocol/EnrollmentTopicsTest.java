package dev.outpost.mqtt.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

class EnrollmentTopicsTest {
    static final String ID = "ab".repeat(32);
    final Topics topics = new Topics();

    @Test
    void anEnrollmentRequestTopicNamesClientDeviceAndKind() {
        String cid = BrokerClientIds.fresh();
        String t = topics.enrollmentRequest(cid, ID, Kind.ACTIVATE);
        assertThat(t).isEqualTo("outpost/v1/enroll/" + cid + "/" + ID + "/req/activate");
        Topics.EnrollmentTopic parsed = topics.parseEnrollmentRequest(t).orElseThrow();
        assertThat(parsed).isEqualTo(new Topics.EnrollmentTopic(cid, ID, Kind.ACTIVATE));
        assertThat(parsed.response(topics)).isEqualTo("outpost/v1/enroll/" + cid + "/" + ID + "/resp");
        // Not a device request topic: the two trees never alias.
        assertThat(topics.parseRequest(t)).isEmpty();
        assertThat(topics.parseEnrollmentRequest(topics.request(ID, Kind.ENROLL))).isEmpty();
    }

    @Test
    void anyOtherShapeIsNotAnEnrollmentRequest() {
        String cid = BrokerClientIds.fresh();
        for (String t : new String[] {
            // a client id with '/' makes the ACL's %c span levels: always deeper than a real request topic
            "outpost/v1/enroll/" + cid + "/x/" + ID + "/req/enroll",
            "outpost/v1/enroll/" + cid + "/" + ID + "/req/enroll/more",
            "outpost/v1/enroll/" + cid + "/" + ID + "/resp",
            "outpost/v1/enroll/" + cid + "/" + ID + "/req/nonsense",
            "outpost/v1/enroll//" + ID + "/req/enroll",
            "other/v1/enroll/" + cid + "/" + ID + "/req/enroll",
            "outpost/v1/enroll/" + cid}) {
            assertThat(topics.parseEnrollmentRequest(t)).as(t).isEmpty();
        }
        assertThat(topics.parseEnrollmentRequest(null)).isEmpty();
    }

    @Test
    void freshClientIdsCarryThePrefixAndDoNotRepeat() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            String id = BrokerClientIds.fresh();
            assertThat(id).startsWith(BrokerClientIds.PREFIX).hasSize(BrokerClientIds.PREFIX.length() + 32)
                    .doesNotContain("/", "+", "#");
            assertThat(seen.add(id)).isTrue();
        }
        // No CN the site CA issues can start with the prefix: device ids are hex, the appliance's CN differs.
        assertThat("outpost-appliance").doesNotStartWith(BrokerClientIds.PREFIX);
        assertThat(BrokerClientIds.PREFIX.charAt(0)).isNotIn('0', '1', '2', '3', '4', '5', '6', '7', '8', '9',
                'a', 'b', 'c', 'd', 'e', 'f');
    }
}
