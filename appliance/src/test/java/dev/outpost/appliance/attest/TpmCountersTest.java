package dev.outpost.appliance.attest;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;

import org.junit.jupiter.api.Test;

import dev.outpost.appliance.store.AttestationRecord;
import dev.outpost.tpm.wire.TpmsAttest;

/** Every way a TPM's counters can move, against the last accepted quote (reset 5, restart 2, clock 1000). */
class TpmCountersTest {
    private static final AttestationRecord PREV = new AttestationRecord("d", 5L, 2L, 1000L, null, true, "p", null,
            "trusted", "", Instant.EPOCH, Instant.EPOCH);

    @Test
    void forwardIsFine() {
        assertThat(check(5, 2, 1500)).isEqualTo(new TpmCounters.Check(false, null));
        assertThat(check(5, 3, 10)).as("resumed from hibernation: the clock may restart lower")
                .isEqualTo(new TpmCounters.Check(false, null));
        assertThat(check(6, 0, 10)).as("a reboot").isEqualTo(new TpmCounters.Check(true, null));
    }

    @Test
    void backwardsIsAFailureWithItsReason() {
        assertThat(check(4, 9, 99_999).problem()).startsWith("tpm.counters: resetCount went backwards (4 < 5)");
        assertThat(check(5, 1, 99_999).problem()).startsWith("tpm.counters: restartCount went backwards without a reboot");
        assertThat(check(5, 2, 999).problem()).startsWith("tpm.clock: went backwards without a reboot");
    }

    @Test
    void theFirstQuoteHasNothingToCompareWith() {
        AttestationRecord fresh = AttestationRecord.fresh("d");
        assertThat(TpmCounters.check(fresh, new TpmsAttest.ClockInfo(0, 0, 0, true)))
                .isEqualTo(new TpmCounters.Check(false, null));
    }

    @Test
    void countersAreUnsigned() {
        // 0xFFFFFFFF is 4294967295, far ahead of 5, not -1
        assertThat(TpmCounters.check(PREV, new TpmsAttest.ClockInfo(2000, -1, 0, true)).rebooted()).isTrue();
        assertThat(TpmCounters.check(PREV, new TpmsAttest.ClockInfo(2000, -1, 0, true)).problem()).isNull();
    }

    private static TpmCounters.Check check(int reset, int restart, long clock) {
        return TpmCounters.check(PREV, new TpmsAttest.ClockInfo(clock, reset, restart, true));
    }
}
