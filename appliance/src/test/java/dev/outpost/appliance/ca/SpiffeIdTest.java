package dev.outpost.appliance.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SpiffeIdTest {
    @Test
    void parsesAndPrints() {
        SpiffeId id = SpiffeId.parse("spiffe://example.org/agent/tpm/x");
        assertThat(id.trustDomain()).isEqualTo("example.org");
        assertThat(id.path()).isEqualTo("/agent/tpm/x");
        assertThat(id).hasToString("spiffe://example.org/agent/tpm/x");
        assertThat(SpiffeId.parse("spiffe://example.org").path()).isEmpty();
        assertThat(SpiffeId.nodeId("td", "0".repeat(64))).hasToString("spiffe://td/agent/tpm/" + "0".repeat(64));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "SPIFFE://example.org/a | must start with spiffe://",
            "spiffe://Example.org/a | lowercase letters",
            "spiffe://example.org:8080/a | port",
            "spiffe://user@example.org/a | userinfo",
            "spiffe:///a | trust domain is empty",
            "spiffe://example.org/ | empty segment",
            "spiffe://example.org//a | empty segment",
            "spiffe://example.org/a/./b | '.' or '..'",
            "spiffe://example.org/a/.. | '.' or '..'",
            "spiffe://example.org/a?x=1 | query or fragment",
            "spiffe://example.org/a#f | query or fragment",
            "spiffe://example.org/a%20b | '%'",
            "http://example.org/a | must start with spiffe://",
    })
    void refusesWithReason(String id, String reason) {
        assertThatThrownBy(() -> SpiffeId.parse(id)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(reason);
    }

    @Test
    void nodeIdNeedsAHexDeviceId() {
        assertThatThrownBy(() -> SpiffeId.nodeId("td", "A".repeat(64))).hasMessageContaining("64 lowercase hex");
    }
}
