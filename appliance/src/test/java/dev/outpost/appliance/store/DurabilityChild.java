package dev.outpost.appliance.store;

import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Instant;

/**
 * Child JVM for {@link DatabaseDurabilityTest}, killed by it. Serial mode: commits audit rows one transaction at a
 * time and prints "committed N" only after {@code record} returned. Concurrent mode ({@code concurrent} as third
 * argument): eight threads commit rows of their own at once, so commits share H2's writes (GroupCommit), and each
 * prints "committed T N" once its transaction returned.
 */
public final class DurabilityChild {
    static final int THREADS = 8;

    private DurabilityChild() {
    }

    public static void main(String[] args) throws Exception {
        Database db = Database.open(Path.of(args[0]));
        String round = args[1];
        if (args.length > 2 && args[2].equals("concurrent")) {
            concurrent(db, round);
            return;
        }
        AuditLog audit = new AuditLog(db);
        System.out.println("ready");
        System.out.flush();
        for (long n = 1; ; n++) {
            audit.record(AuditEvent.of(Instant.now(), null, "durability", AuditEvent.Decision.INFO, "round " + round, Long.toString(n)));
            System.out.println("committed " + n);
            System.out.flush();
        }
    }

    private static void concurrent(Database db, String round) {
        db.inTransaction(c -> {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE IF NOT EXISTS durability_probe (round INT, t INT, n BIGINT, pad VARCHAR(2000))");
            }
            return null;
        });
        String pad = "x".repeat(1500);
        System.out.println("ready");
        System.out.flush();
        for (int t = 0; t < THREADS; t++) {
            int thread = t;
            new Thread(() -> {
                for (long n = 1; ; n++) {
                    long row = n;
                    db.inTransaction(c -> {
                        try (PreparedStatement ps = c.prepareStatement("INSERT INTO durability_probe VALUES (?, ?, ?, ?)")) {
                            ps.setInt(1, Integer.parseInt(round));
                            ps.setInt(2, thread);
                            ps.setLong(3, row);
                            ps.setString(4, pad);
                            ps.executeUpdate();
                        }
                        return null;
                    });
                    synchronized (System.out) {
                        System.out.println("committed " + thread + " " + row);
                        System.out.flush();
                    }
                }
            }, "writer-" + t).start();
        }
    }
}
