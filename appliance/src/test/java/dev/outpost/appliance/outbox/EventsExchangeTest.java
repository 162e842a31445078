package dev.outpost.appliance.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.appliance.store.OutboxStore;
import dev.outpost.appliance.upstream.UpstreamException;

/** The events exchange read strictly: an answer the site does not understand marks and renumbers nothing. */
class EventsExchangeTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static EventsExchange.Answer answer(int status, String body) throws UpstreamException {
        return EventsExchange.answer(status, body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void divergedAtIsTakenOnlyFromAConflictAndWithinWhatCentralHolds() throws Exception {
        EventsExchange.Answer a = answer(409, "{\"v\":1,\"ackedThrough\":18,\"divergedAt\":7}");
        assertThat(a.divergedAt()).isEqualTo(7);
        assertThat(a.ackedThrough()).isEqualTo(18);
        assertThat(answer(409, "{\"v\":1,\"ackedThrough\":18}").divergedAt()).as("a gap").isZero();
        assertThat(answer(200, "{\"v\":1,\"ackedThrough\":18}").divergedAt()).isZero();
        for (String bad : List.of("{\"v\":1,\"ackedThrough\":18,\"divergedAt\":19}",
                "{\"v\":1,\"ackedThrough\":18,\"divergedAt\":0}", "{\"v\":1,\"ackedThrough\":18,\"divergedAt\":\"7\"}",
                "{\"v\":1,\"ackedThrough\":18,\"divergedAt\":7.5}")) {
            assertThatThrownBy(() -> answer(409, bad)).as(bad).isInstanceOf(UpstreamException.class)
                    .hasMessageContaining("divergedAt");
        }
        assertThatThrownBy(() -> answer(200, "{\"v\":1,\"ackedThrough\":18,\"divergedAt\":7}"))
                .isInstanceOf(UpstreamException.class).hasMessageContaining("divergedAt");
    }

    @Test
    void aBatchSaysWhereARestoredBackupEndedAndOnlyThen() throws Exception {
        List<OutboxStore.Row> rows = List.of(new OutboxStore.Row(5, Instant.parse("2026-12-07T10:00:00Z"), "audit",
                "{\"id\":5}", 8));
        JsonNode plain = JSON.readTree(EventsExchange.batch(3, rows, -1));
        assertThat(plain.has("restoredThrough")).isFalse();
        assertThat(plain.path("from").asLong()).isEqualTo(3);
        assertThat(plain.path("through").asLong()).isEqualTo(5);
        JsonNode restored = JSON.readTree(EventsExchange.batch(3, rows, 4));
        assertThat(restored.path("restoredThrough").asLong()).isEqualTo(4);
        assertThat(restored.path("events").get(0).path("data").path("id").asInt()).isEqualTo(5);
    }
}
