package dev.outpost.central;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.stream.Stream;

import dev.outpost.testkit.Postgres;

/** The two stores central runs on; one PostgreSQL server per test JVM, a fresh database per use. */
public final class Stores {
    private static Postgres server;

    private Stores() {
    }

    public static Stream<String> both() {
        return Stream.of("h2", "postgresql");
    }

    /** A JDBC URL for the store, null for H2 (the file in the data directory). */
    public static String url(String store) {
        if ("h2".equals(store)) {
            return null;
        }
        return postgres().newDatabase();
    }

    public static synchronized Postgres postgres() {
        assumeTrue(Postgres.binaries().isPresent(), "PostgreSQL server binaries are not installed (scripts/install-deps)");
        if (server == null) {
            server = Postgres.start();
        }
        return server;
    }

    public static Harness start(String store, Path dir) throws Exception {
        return Harness.start(Harness.config(dir, url(store)));
    }
}
