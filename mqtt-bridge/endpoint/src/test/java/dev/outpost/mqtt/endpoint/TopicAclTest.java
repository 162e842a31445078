package dev.outpost.mqtt.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.Topics;

class TopicAclTest {
    private final Topics topics = new Topics();
    private final TopicAcl acl = new TopicAcl(topics);
    private final String me = "a".repeat(64);
    private final String other = "b".repeat(64);

    @Test
    void subscriptionsArePinnedToTheOwnIdAndTheSiteTopics() {
        assertThat(acl.maySubscribe(me, topics.response(me))).isTrue();
        assertThat(acl.maySubscribe(me, topics.command(me))).isTrue();
        assertThat(acl.maySubscribe(me, topics.siteBundle())).isTrue();
        assertThat(acl.maySubscribe(me, "outpost/v1/site/#")).isTrue();
        assertThat(acl.maySubscribe(me, topics.response(other))).isFalse();
        assertThat(acl.maySubscribe(me, "outpost/v1/dev/" + me + "/#")).isFalse();
        assertThat(acl.maySubscribe(me, "outpost/v1/dev/+/cmd")).isFalse();
        assertThat(acl.maySubscribe(me, topics.request(me, Kind.STATUS))).isFalse();
    }

    @Test
    void publishesAreOwnRequestsOnlyAndEnrollmentWithoutSvid() {
        assertThat(acl.mayPublish(me, true, topics.request(me, Kind.STATUS)).allowed()).isTrue();
        assertThat(acl.mayPublish(me, false, topics.request(me, Kind.ACTIVATE)).allowed()).isTrue();
        // csr renews an SVID, so it needs one: the first SVID comes with the activation answer.
        assertThat(acl.mayPublish(me, false, topics.request(me, Kind.CSR)).refusal()).isEqualTo(ErrorCode.UNAUTHORIZED);
        assertThat(acl.mayPublish(me, false, topics.request(me, Kind.STATUS)).refusal()).isEqualTo(ErrorCode.UNAUTHORIZED);
        assertThat(acl.mayPublish(me, true, topics.request(other, Kind.STATUS)).refusal()).isEqualTo(ErrorCode.FORBIDDEN);
        assertThat(acl.mayPublish(me, true, topics.response(me)).refusal()).isEqualTo(ErrorCode.FORBIDDEN);
        assertThat(acl.mayPublish(me, true, "outpost/v1/dev/" + me + "/req/reboot").refusal())
                .isEqualTo(ErrorCode.FORBIDDEN);
    }

    @Test
    void theSiteWildcardMatchesOnlySiteTopics() {
        assertThat(acl.matches("outpost/v1/site/#", topics.siteRevocations())).isTrue();
        assertThat(acl.matches("outpost/v1/site/#", topics.command(me))).isFalse();
        assertThat(acl.isSiteTopic(topics.siteBundle())).isTrue();
        assertThat(acl.isSiteTopic("outpost/v1/site/#")).isFalse();
        assertThat(acl.isSiteTopic(topics.command(me))).isFalse();
    }
}
