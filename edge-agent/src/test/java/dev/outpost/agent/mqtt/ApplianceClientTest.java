package dev.outpost.agent.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;

import org.junit.jupiter.api.Test;

import dev.outpost.mqtt.protocol.Kind;

/** What a request's wait says: the reply, a dropped connection, or nothing in time (the agent logs which). */
class ApplianceClientTest {

    @Test
    void aDroppedConnectionIsNotReportedAsALateReply() {
        CompletableFuture<String> lost = new CompletableFuture<>();
        lost.complete("appliance shutting down");
        assertThatThrownBy(() -> ApplianceClient.await(new CompletableFuture<>(), lost, Duration.ofSeconds(20),
                Kind.EVIDENCE)).isInstanceOf(TimeoutException.class)
                .hasMessage("evidence: connection lost before the reply (appliance shutting down)");
    }

    @Test
    void nothingInTimeIsALateReply() {
        assertThatThrownBy(() -> ApplianceClient.await(new CompletableFuture<>(), new CompletableFuture<>(),
                Duration.ofMillis(50), Kind.CHALLENGE)).isInstanceOf(TimeoutException.class)
                .hasMessage("challenge: no reply within 0 s");
    }

    @Test
    void theReplyWins() throws Exception {
        assertThat(ApplianceClient.await(CompletableFuture.completedFuture(new byte[] {1}), new CompletableFuture<>(),
                Duration.ofSeconds(1), Kind.STATUS)).containsExactly(1);
    }
}
