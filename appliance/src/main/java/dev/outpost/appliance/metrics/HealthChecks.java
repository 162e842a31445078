package dev.outpost.appliance.metrics;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.appliance.store.Database;
import dev.outpost.mqtt.endpoint.DeviceChannel;

/** The appliance's readiness conditions. */
public final class HealthChecks {
    private static final int PROBE_TIMEOUT_SECONDS = 5;
    /** A scrape every second still writes at most once per this. */
    public static final Duration DATABASE_PROBE_EVERY = Duration.ofSeconds(5);
    // A commit takes milliseconds; a probe still waiting after this is a database that does not answer.
    static final Duration DATABASE_PATIENCE = Duration.ofSeconds(3);

    private HealthChecks() {
    }

    /**
     * The database takes a write: a committed no-op update of the single bundle row, made durable as every state
     * change is. A read would pass on a database H2 has closed after a failed write only if the pool hands out a
     * fresh connection, and would pass on a full disk; only a durable commit goes through the path every state
     * change takes. The row lock is held for microseconds.
     */
    public static Readiness.Check databaseWritable(Database db) {
        return Readiness.Check.of("database", () -> {
            try {
                int rows = db.inTransaction(c -> {
                    try (Statement s = c.createStatement()) {
                        s.setQueryTimeout(PROBE_TIMEOUT_SECONDS);
                        return s.executeUpdate("UPDATE bundle SET sequence = sequence WHERE id = 1");
                    }
                });
                return rows == 1 ? Optional.empty() : Optional.of("the bundle row is missing");
            } catch (RuntimeException e) {
                // StoreException, or H2's own unchecked exceptions from a store it closed
                return Optional.of("write probe failed: " + rootMessage(e));
            }
        });
    }

    /**
     * The site CA can sign: not expired, and its key and certificate files are still there (the key in memory
     * signs today, but a restart without the files would refuse to start or, worse, make a new CA).
     */
    public static Readiness.Check caValid(SiteCa ca, Path caDir, Clock clock) {
        return Readiness.Check.of("ca", () -> {
            Instant now = clock.instant();
            if (!now.isBefore(ca.notAfter())) {
                return Optional.of("ca expired: the site CA expired at " + ca.notAfter() + "; no identity is issued "
                        + "until a new CA is installed (outpost-appliance ca csr / ca install)");
            }
            if (now.isBefore(ca.certificate().getNotBefore().toInstant())) {
                return Optional.of("the site CA is not valid before " + ca.certificate().getNotBefore().toInstant());
            }
            if (!Files.isRegularFile(caDir.resolve(SiteCa.KEY_FILE))
                    && !Files.isRegularFile(caDir.resolve(SiteCa.KEY_FILE + dev.outpost.appliance.ca.CaKeys.SEALED_SUFFIX))) {
                return Optional.of(caDir.resolve(SiteCa.KEY_FILE) + " is missing");
            }
            if (!Files.isRegularFile(caDir.resolve(SiteCa.CERT_FILE))) {
                return Optional.of(caDir.resolve(SiteCa.CERT_FILE) + " is missing");
            }
            return Optional.empty();
        });
    }

    /** The devices' way in: the embedded endpoint listens, or the broker client is connected. */
    public static Readiness.Check deviceChannel(Supplier<DeviceChannel> channel) {
        return Readiness.Check.of("devices", () -> {
            DeviceChannel c = channel.get();
            return c == null ? Optional.of("no device channel yet") : c.unavailable();
        });
    }

    /** Start-up finished (everything wired, listeners bound). */
    public static Readiness.Check started(BooleanSupplier started) {
        return Readiness.Check.of("started", () -> started.getAsBoolean() ? Optional.empty()
                : Optional.of("starting or stopping"));
    }

    /**
     * The appliance's readiness: started, database writable (probed at most every {@link #DATABASE_PROBE_EVERY}),
     * site CA valid, device channel up.
     */
    public static Readiness appliance(BooleanSupplier started, Database db, SiteCa ca, Path caDir, Clock clock,
            DeviceChannel channel) {
        return new Readiness(java.util.List.of(started(started),
                new CachedCheck(databaseWritable(db), DATABASE_PROBE_EVERY, DATABASE_PATIENCE),
                caValid(ca, caDir, clock), deviceChannel(() -> channel)));
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        String msg = String.valueOf(e.getMessage());
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
            if (t.getMessage() != null) {
                msg = msg + " (" + t.getMessage() + ")";
            }
        }
        // H2 puts the SQL state and its version in the message; an operator reads the first line.
        int nl = msg.indexOf('\n');
        String line = nl < 0 ? msg : msg.substring(0, nl);
        return line.length() <= 500 ? line : line.substring(0, 500) + "…";
    }
}
