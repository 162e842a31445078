package dev.outpost.appliance.store;

import static dev.outpost.appliance.store.StoreFixtures.T0;

import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * What one append costs once the outbox is at its bound (a site cut off for hours): every routine row coalesces.
 * {@code mvn -q -o -pl appliance test -Dtest=OutboxBoundBench -Doutpost.bench=true -Dsurefire.failIfNoSpecifiedTests=false};
 * prints lines starting with {@code BENCH}, asserts nothing.
 */
@EnabledIfSystemProperty(named = "outpost.bench", matches = "true")
class OutboxBoundBench {
    private static final int KEYS = Integer.getInteger("outpost.bench.keys", 10_000);
    private static final int ROWS = Integer.getInteger("outpost.bench.rows", 100_000);
    private static final int APPENDS = Integer.getInteger("outpost.bench.appends", 2_000);
    /** Rows of the filled backlog that never coalesce (lasting audit records, revocations): every this-many-th. */
    private static final int LASTING_PERCENT = Integer.getInteger("outpost.bench.lastingPercent", 0);

    @Test
    void appendsAtTheBound(@TempDir Path dir) {
        try (Database db = Database.open(dir)) {
            OutboxStore o = db.outbox();
            o.bound(ROWS, Long.MAX_VALUE);
            SplittableRandom random = new SplittableRandom(1);
            long start = System.nanoTime();
            int batch = 1_000;
            for (int i = 0; i < ROWS; i += batch) {
                int from = i;
                db.inTransaction(c -> {
                    for (int j = from; j < from + batch; j++) {
                        boolean lasting = j % 100 < LASTING_PERCENT;
                        o.append(c, "audit", T0, lasting ? null : "issue:" + (j % KEYS), Map.of("n", j));
                    }
                    return null;
                });
            }
            System.out.printf("BENCH outbox filled: %d rows (%d %% lasting) over %d keys in %.1f s%n", ROWS, LASTING_PERCENT, KEYS,
                    (System.nanoTime() - start) / 1e9);
            for (int round = 0; round < 3; round++) {
                start = System.nanoTime();
                for (int i = 0; i < APPENDS; i++) {
                    int key = random.nextInt(KEYS);
                    o.appendAlone("audit", T0, "issue:" + key, Map.of("n", i));
                }
                double ms = (System.nanoTime() - start) / 1e6 / APPENDS;
                OutboxStore.Backlog b = o.backlog();
                System.out.printf("BENCH round %d: %d appends at the bound, %.2f ms each; backlog %d rows, %d coalesced%n",
                        round, APPENDS, ms, b.rows(), b.coalesced());
            }
        }
    }
}
