package dev.outpost.auditchain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;

/** The link encoding both the appliance and central hash: pinned, and unambiguous. */
class ChainLinkTest {
    private static final HexFormat HEX = HexFormat.of();
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void theEncodingIsPinnedByAnIndependentComputation() {
        // the same bytes assembled by Python's hashlib from the layout in docs/operations.md
        byte[] prev = new byte[32];
        for (int i = 0; i < 32; i++) {
            prev[i] = (byte) i;
        }
        ChainLink l = new ChainLink(true, 7, prev, Instant.ofEpochSecond(1_700_000_000L, 123_456_000),
                "ab".repeat(32), "enroll", "allow", "EK trusted: é", null);
        assertThat(HEX.formatHex(l.hash())).isEqualTo("57a559b3b88ff0e7af87a31b4feee41db8e8d92fc632ba86f44ec58de0e42aeb");
    }

    @Test
    void nullEmptyAndMovedBoundariesEncodeApart() {
        ChainLink a = link("ab", "c");
        assertThat(a.hash()).isNotEqualTo(link("a", "bc").hash());
        assertThat(link("x", null).hash()).isNotEqualTo(link("x", "").hash());
        assertThat(a.hash()).isEqualTo(link("ab", "c").hash());
    }

    @Test
    void aPrevThatIsNoHashIsRefused() {
        ChainLink l = new ChainLink(false, 1, new byte[31], T0, null, "issue", "allow", null, null);
        assertThatThrownBy(l::hash).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("32 bytes");
    }

    private static ChainLink link(String reason, String detail) {
        return new ChainLink(false, 1, ChainLink.ZERO, T0, null, "issue", "allow", reason, detail);
    }
}
