package dev.outpost.appliance.attest;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;

import org.junit.jupiter.api.Test;

import dev.outpost.tpm.wire.PcrSelection;

/** The global evidence budget: taken per part, given back exactly once however a challenge ends. */
class PendingChallengesTest {
    private static final Instant T0 = Instant.parse("2026-12-01T00:00:00Z");
    private static final PcrSelection PCRS = PcrSelection.parse("sha256:10");

    @Test
    void theBudgetBoundsAllDevicesTogetherAndComesBackWhenChallengesEnd() {
        PendingChallenges pc = new PendingChallenges(1000);
        PendingChallenges.Pending a = pending(T0.plusSeconds(30));
        PendingChallenges.Pending b = pending(T0.plusSeconds(30));
        pc.put("a", a);
        pc.put("b", b);
        assertThat(pc.reserve(a, 600)).isTrue();
        assertThat(pc.reserve(b, 500)).as("over the total").isFalse();
        assertThat(pc.bufferedBytes()).isEqualTo(600);
        assertThat(pc.reserve(b, 400)).isTrue();
        pc.consume("a", a);
        pc.consume("a", a);
        assertThat(pc.bufferedBytes()).as("released once").isEqualTo(400);
        assertThat(pc.reserve(a, 1)).as("a consumed challenge takes nothing more").isFalse();
    }

    @Test
    void expiredChallengesAreDroppedWithWhatTheyBufferedWithoutAnyNewChallenge() {
        PendingChallenges pc = new PendingChallenges(1 << 20);
        PendingChallenges.Pending quiet = pending(T0.plusSeconds(30));
        PendingChallenges.Pending live = pending(T0.plusSeconds(90));
        pc.put("quiet", quiet);
        pc.put("live", live);
        pc.reserve(quiet, 5000);
        pc.reserve(live, 7);
        assertThat(pc.purgeExpired(T0.plusSeconds(31), Duration.ofSeconds(30))).isEqualTo(1);
        assertThat(pc.bufferedBytes()).isEqualTo(7);
        assertThat(pc.match("quiet", quiet.nonce)).as("kept buffer-less, to say it expired").isSameAs(quiet);
        assertThat(quiet.bytes()).isZero();
        assertThat(pc.reserve(quiet, 1)).isFalse();
        assertThat(pc.purgeExpired(T0.plusSeconds(61), Duration.ofSeconds(30))).isZero();
        assertThat(pc.match("quiet", quiet.nonce)).isNull();
        assertThat(pc.match("live", live.nonce)).isSameAs(live);
    }

    @Test
    void aNewChallengeReleasesWhatTheOldOneBuffered() {
        PendingChallenges pc = new PendingChallenges(100);
        PendingChallenges.Pending first = pending(T0.plusSeconds(30));
        pc.put("d", first);
        pc.reserve(first, 100);
        pc.put("d", pending(T0.plusSeconds(60)));
        assertThat(pc.bufferedBytes()).isZero();
    }

    private static PendingChallenges.Pending pending(Instant expires) {
        return new PendingChallenges.Pending(new byte[] {(byte) expires.getEpochSecond()}, PCRS, 0, false, expires);
    }
}
