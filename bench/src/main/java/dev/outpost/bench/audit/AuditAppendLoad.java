package dev.outpost.bench.audit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import dev.outpost.appliance.audit.AuditVerifier;
import dev.outpost.appliance.store.AuditEvent;
import dev.outpost.appliance.store.AuditLog;
import dev.outpost.appliance.store.Database;

/**
 * Audit appends per second with the hash chain (BENCHMARKS.md "Audit trail"): {@code threads} writers append audit
 * records through {@link AuditLog} (group commit, as the appliance's services do) into a fresh H2 database for
 * {@code seconds}, then the whole chain is verified and the verification timed.
 *
 * <p>{@code java -cp bench/target/benchmarks.jar dev.outpost.bench.audit.AuditAppendLoad [threads] [seconds] [chain|prechain]}
 * (prechain: the audit log as it was before the chain, {@code PreChainAuditLog}, as the baseline)
 */
public final class AuditAppendLoad {
    private AuditAppendLoad() {
    }

    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 8;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        boolean chain = args.length <= 2 || !"prechain".equals(args[2]);
        Path dir = Files.createTempDirectory("audit-load");
        try (Database db = Database.open(dir)) {
            java.util.function.Consumer<AuditEvent> audit;
            if (chain) {
                audit = new AuditLog(db)::record;
            } else {
                audit = new dev.outpost.appliance.store.PreChainAuditLog(db)::record;
            }
            // warm-up: the JIT and H2's caches
            run(audit, threads, 3);
            long before = count(db);
            long t0 = System.nanoTime();
            long n = run(audit, threads, seconds);
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.printf("%s appends: %d in %.1f s with %d threads: %.0f appends/s%n", chain ? "chained" : "pre-chain",
                    n, s, threads, n / s);
            long rows = count(db);
            long v0 = System.nanoTime();
            AuditVerifier.Report r = AuditVerifier.verify(db, false, null, null);
            // (pre-chain rows are unchained: verify then only counts them)
            double vs = (System.nanoTime() - v0) / 1e9;
            System.out.printf("verify: %d rows in %.2f s (%.0f rows/s), %s%n", rows, vs, rows / vs,
                    r.ok() ? "verified" : r.problems().size() + " problems");
            // the chain's own CPU per append: encoding and SHA-256 of a typical link
            dev.outpost.auditchain.ChainLink l = new dev.outpost.auditchain.ChainLink(false, 1,
                    new byte[32], Instant.now(), "ab".repeat(32), "issue", "allow", "renewed on a passing attestation",
                    "thread 1 #1");
            byte[] sink = new byte[32];
            for (int round = 0; round < 2; round++) {
                long h0 = System.nanoTime();
                for (int i = 0; i < 200_000; i++) {
                    sink = new dev.outpost.auditchain.ChainLink(false, i, sink, l.at(), l.deviceId(),
                            l.action(), l.decision(), l.reason(), l.detail()).hash();
                }
                System.out.printf("link hash: %.2f µs each (round %d)%n", (System.nanoTime() - h0) / 1e3 / 200_000, round);
            }
            if (rows - before != n) {
                throw new IllegalStateException("counted " + (rows - before) + " new rows, appended " + n);
            }
        }
    }

    private static long run(java.util.function.Consumer<AuditEvent> audit, int threads, int seconds) throws InterruptedException {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong done = new AtomicLong();
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread th = new Thread(() -> {
                for (long i = 0; !stop.get(); i++) {
                    // the size of a typical issuance row: a device id, a reason, a short detail
                    audit.accept(AuditEvent.of(Instant.now(), "ab".repeat(32), i % 50 == 0 ? "revoke" : "issue",
                            AuditEvent.Decision.ALLOW, "renewed on a passing attestation", "thread " + id + " #" + i));
                    done.incrementAndGet();
                }
            });
            th.start();
            ts.add(th);
        }
        Thread.sleep(seconds * 1000L);
        stop.set(true);
        for (Thread th : ts) {
            th.join();
        }
        return done.get();
    }

    private static long count(Database db) {
        return db.inTransaction(c -> {
            try (var st = c.createStatement(); var rs = st.executeQuery("SELECT COUNT(*) FROM audit")) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }
}
