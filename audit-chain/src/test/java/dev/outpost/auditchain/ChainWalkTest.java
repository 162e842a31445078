package dev.outpost.auditchain;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The pure walk over synthetic chains: what the appliance's tamper tests do to H2, done to a list. */
class ChainWalkTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    static List<ChainRow> chain(boolean lasting, int n) {
        List<ChainRow> rows = new ArrayList<>();
        byte[] prev = ChainLink.ZERO;
        for (int i = 1; i <= n; i++) {
            ChainLink l = new ChainLink(lasting, i, prev, T0.plusSeconds(i), null, "issue", "allow", "r" + i, null);
            byte[] h = l.hash();
            rows.add(new ChainRow(i, l, h));
            prev = h;
        }
        return rows;
    }

    private static ChainWalk walk(List<ChainRow> rows, boolean gapsAllowed) {
        ChainWalk w = new ChainWalk(false, 0, ChainLink.ZERO, List.of(), gapsAllowed);
        w.feed(rows);
        return w;
    }

    @Test
    void anIntactChainVerifies() {
        ChainWalk w = walk(chain(false, 10), false);
        assertThat(w.problems()).isEmpty();
        assertThat(w.rows()).isEqualTo(10);
        assertThat(w.lastSeq()).isEqualTo(10);
    }

    @Test
    void aModifiedRecordIsNamed() {
        List<ChainRow> rows = chain(false, 10);
        ChainRow r = rows.get(4);
        ChainLink l = r.link();
        rows.set(4, new ChainRow(r.id(), new ChainLink(false, l.seq(), l.prev(), l.at(), null, "issue", "deny",
                l.reason(), null), r.storedHash()));
        ChainWalk w = walk(rows, false);
        assertThat(w.problems()).singleElement().satisfies(p -> {
            assertThat(p.kind()).isEqualTo(ChainWalk.Kind.MODIFIED);
            assertThat(p.seq()).isEqualTo(5);
        });
    }

    @Test
    void aMissingRecordIsARemovalUnlessGapsAreAllowed() {
        List<ChainRow> rows = chain(false, 10);
        rows.remove(3);
        rows.remove(3);
        ChainWalk strict = walk(rows, false);
        assertThat(strict.problems()).singleElement().satisfies(p -> assertThat(p.kind()).isEqualTo(ChainWalk.Kind.REMOVED));
        ChainWalk lenient = walk(rows, true);
        assertThat(lenient.problems()).isEmpty();
        assertThat(lenient.gaps()).isEqualTo(2);
        assertThat(lenient.gapRuns()).isEqualTo(1);
    }

    @Test
    void aModifiedRecordAfterAGapIsStillNamed() {
        List<ChainRow> rows = chain(false, 10);
        rows.remove(3);
        ChainRow r = rows.get(3); // seq 5, right after the gap
        ChainLink l = r.link();
        rows.set(3, new ChainRow(r.id(), new ChainLink(false, l.seq(), l.prev(), l.at(), null, "issue", "allow",
                "edited", null), r.storedHash()));
        ChainWalk w = walk(rows, true);
        assertThat(w.gaps()).isEqualTo(1);
        assertThat(w.problems()).singleElement().satisfies(p -> {
            assertThat(p.kind()).isEqualTo(ChainWalk.Kind.MODIFIED);
            assertThat(p.seq()).isEqualTo(5);
        });
    }
}
