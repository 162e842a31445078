package dev.outpost.appliance.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A burst of alike refusals is two rows: the first and a count. */
class RefusalCoalescerTest {
    private static final Instant T0 = Instant.parse("2026-12-01T00:00:00Z");
    private static final String DEV = "a".repeat(64);

    @Test
    void aBurstIsTheFirstRowAndACountWhenItsMinuteEnds(@TempDir Path dir) {
        Database db = Database.open(dir);
        try {
            AuditLog log = new AuditLog(db);
            assertThat(log.recordRefusal(refusal(0, "FORBIDDEN: nonce replayed"))).isTrue();
            for (int i = 1; i <= 500; i++) {
                assertThat(log.recordRefusal(refusal(i / 10, "FORBIDDEN: nonce replayed " + i))).isFalse();
            }
            // another cause is its own burst
            assertThat(log.recordRefusal(refusal(5, "TOO_LARGE: evidence over 1 bytes"))).isTrue();
            assertThat(log.forDevice(DEV, 100)).hasSize(2);

            assertThat(log.flushRefusals(T0.plusSeconds(59))).isZero();
            assertThat(log.flushRefusals(T0.plusSeconds(61))).isEqualTo(1);
            List<AuditEvent> rows = log.forDevice(DEV, 100);
            assertThat(rows).hasSize(3);
            assertThat(rows.get(0).reason()).startsWith("refused 500 more times").contains("nonce replayed 500");
            assertThat(log.flushRefusals(T0.plusSeconds(3600))).as("nothing counted twice").isZero();

            // after the window a refusal opens a new burst and is stored
            assertThat(log.recordRefusal(refusal(120, "FORBIDDEN: again"))).isTrue();
        } finally {
            db.close();
        }
    }

    @Test
    void theNextAlikeRefusalAfterTheWindowWritesTheCountFirst() {
        RefusalCoalescer c = new RefusalCoalescer();
        assertThat(c.offer(refusal(0, "RATE_LIMITED: x"))).hasSize(1);
        assertThat(c.offer(refusal(1, "RATE_LIMITED: y"))).isEmpty();
        List<AuditEvent> rows = c.offer(refusal(70, "RATE_LIMITED: z"));
        assertThat(rows).hasSize(2);
        assertThat(rows.get(0).reason()).startsWith("refused 1 more time between");
        assertThat(rows.get(1).reason()).isEqualTo("RATE_LIMITED: z");
    }

    private static AuditEvent refusal(long second, String reason) {
        return AuditEvent.of(T0.plusSeconds(second), DEV, "evidence", AuditEvent.Decision.DENY, reason, null);
    }
}
