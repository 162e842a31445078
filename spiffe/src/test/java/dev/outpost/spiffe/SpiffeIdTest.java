package dev.outpost.spiffe;

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
            "SPIFFE://example.org/a | canonical form",
            "spiffe://Example.org/a | canonical form",
            "spiffe://example.org:8080/a | Trust domain characters are limited",
            "spiffe://user@example.org/a | Trust domain characters are limited",
            "spiffe:///a | Trust domain is missing",
            "spiffe://example.org/ | trailing slash",
            "spiffe://example.org//a | empty segments",
            "spiffe://example.org/a/./b | dot segments",
            "spiffe://example.org/a/.. | dot segments",
            "spiffe://example.org/a?x=1 | Path segment characters are limited",
            "spiffe://example.org/a#f | Path segment characters are limited",
            "spiffe://example.org/a%20b | Path segment characters are limited",
            "http://example.org/a | Scheme is missing or invalid",
    })
    void refusesWithReason(String id, String reason) {
        assertThatThrownBy(() -> SpiffeId.parse(id)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(reason)
                .hasMessageContaining(id.substring(0, 10));
    }

    @Test
    void nodeIdNeedsAHexDeviceId() {
        assertThatThrownBy(() -> SpiffeId.nodeId("td", "A".repeat(64))).hasMessageContaining("64 lowercase hex");
    }
}
