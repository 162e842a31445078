package dev.outpost.appliance.store;

import java.nio.file.Path;
import java.time.Instant;

/**
 * Child JVM for {@link DatabaseDurabilityTest}: commits audit rows one transaction at a time and prints
 * "committed N" only after {@code commit()} returned, until it is killed.
 */
public final class DurabilityChild {
    private DurabilityChild() {
    }

    public static void main(String[] args) {
        Database db = Database.open(Path.of(args[0]));
        String round = args[1];
        AuditLog audit = new AuditLog(db);
        System.out.println("ready");
        System.out.flush();
        for (long n = 1; ; n++) {
            audit.record(AuditEvent.of(Instant.now(), null, "durability", AuditEvent.Decision.INFO, "round " + round, Long.toString(n)));
            System.out.println("committed " + n);
            System.out.flush();
        }
    }
}
