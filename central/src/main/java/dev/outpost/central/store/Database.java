package dev.outpost.central.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;

import javax.sql.DataSource;

import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import dev.outpost.central.config.CentralConfig;

/**
 * Central's store: an H2 file in the data directory (the one-command default) or PostgreSQL (production, several
 * instances), migrated by the same Flyway scripts at open.
 *
 * <p><b>Blocking.</b> JDBC: call from a worker ({@code executeBlocking}), never from an event loop.
 *
 * <p>H2 runs with {@code AUTO_SERVER=TRUE}: the first process to open the file serves it to the others over a
 * loopback socket, so {@code outpost-central site add} works while the service runs (H2's file lock would
 * otherwise keep the CLI out). With PostgreSQL every process simply connects.
 */
public final class Database implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Database.class);
    public static final String H2_FILE = "central";
    public static final String H2_PASSWORD_FILE = "h2.password";

    private final HikariDataSource pool;
    private final String description;

    private Database(HikariDataSource pool, String description) {
        this.pool = pool;
        this.description = description;
    }

    public static Database open(CentralConfig.DatabaseConfig cfg, Path dataDir) {
        HikariConfig hc = new HikariConfig();
        String description;
        if (cfg.url == null) {
            Path dir = dataDir.toAbsolutePath().normalize();
            if (dir.toString().contains(";")) {
                throw new StoreException("data directory must not contain ';': " + dir);
            }
            try {
                if (!Files.isDirectory(dir)) {
                    Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                }
            } catch (IOException e) {
                throw new StoreException("cannot create data directory " + dir + ": " + e.getMessage(), e);
            }
            // WRITE_DELAY=0: a committed join or signing is on disk when the peer gets its answer.
            hc.setJdbcUrl("jdbc:h2:file:" + dir.resolve(H2_FILE) + ";AUTO_SERVER=TRUE;WRITE_DELAY=0;LOCK_TIMEOUT=10000");
            hc.setUsername("central");
            // AUTO_SERVER listens on a loopback TCP port: a password only the data directory's owner can read keeps
            // other local users from opening the database through it.
            hc.setPassword(h2Password(dir));
            description = "H2 " + dir.resolve(H2_FILE) + ".mv.db";
        } else {
            hc.setJdbcUrl(cfg.url);
            if (cfg.user != null) {
                hc.setUsername(cfg.user);
            }
            hc.setPassword(password(cfg));
            description = cfg.url.startsWith("jdbc:postgresql:") ? "PostgreSQL " + redact(cfg.url) : redact(cfg.url);
        }
        hc.setPoolName("outpost-central");
        hc.setMaximumPoolSize(cfg.maxConnections);
        hc.setMinimumIdle(1);
        hc.setConnectionTimeout(30_000);
        HikariDataSource pool;
        try {
            pool = new HikariDataSource(hc);
        } catch (RuntimeException e) {
            throw new StoreException("cannot open the database (" + description + "): " + e.getMessage(), e);
        }
        try {
            migrate(pool);
        } catch (RuntimeException e) {
            pool.close();
            throw new StoreException("cannot migrate the database (" + description + "): " + e.getMessage(), e);
        }
        if (cfg.url == null) {
            narrow(dataDir.toAbsolutePath().normalize());
        }
        LOG.info("database open: {}", description);
        return new Database(pool, description);
    }

    private static String h2Password(Path dir) {
        Path file = dir.resolve(H2_PASSWORD_FILE);
        try {
            if (!Files.exists(file)) {
                byte[] b = new byte[24];
                new java.security.SecureRandom().nextBytes(b);
                dev.outpost.spiffe.KeyFiles.writePrivate(file,
                        java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(b).getBytes(StandardCharsets.US_ASCII));
            }
            return new String(dev.outpost.spiffe.KeyFiles.readPrivate(file, 256), StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            throw new StoreException("H2 password file " + file + ": " + e.getMessage(), e);
        }
    }

    // H2 creates its files with the process umask; the registry holds token and secret hashes: owner only.
    private static void narrow(Path dir) {
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (f.getFileName().toString().startsWith(H2_FILE + ".") && Files.isRegularFile(f)) {
                    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
                }
            }
        } catch (IOException e) {
            LOG.warn("cannot make the database files in {} owner-only: {}", dir, e.getMessage());
        }
    }

    static void migrate(DataSource ds) {
        Flyway.configure()
                .dataSource(ds)
                // Its own location: the appliance ships db/migration, and a classpath holding both (tests of a site linked to
                // a central) must not mix the two schemas.
                .locations("classpath:db/central")
                .failOnMissingLocations(true)
                .load()
                .migrate();
    }

    private static String password(CentralConfig.DatabaseConfig cfg) {
        if (cfg.passwordFile != null) {
            try {
                return Files.readString(Path.of(cfg.passwordFile), StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                throw new StoreException("database.passwordFile " + cfg.passwordFile + ": " + e.getMessage(), e);
            }
        }
        return cfg.password == null ? "" : cfg.password;
    }

    // A URL may carry a password parameter; the log must not.
    private static String redact(String url) {
        return url.replaceAll("(?i)(password=)[^&;]*", "$1***");
    }

    /**
     * Runs {@code work} in one transaction: committed when it returns, rolled back when it throws. SQL errors
     * come out as {@link StoreException}; other exceptions (refusals) pass through after the rollback, so a
     * refused request changes nothing.
     */
    public <T> T inTransaction(SqlWork<T> work) {
        try (Connection c = pool.getConnection()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException | Error e) {
                try {
                    c.rollback();
                } catch (SQLException re) {
                    e.addSuppressed(re);
                }
                if (e instanceof SQLException sql) {
                    throw new StoreException("database: " + sql.getMessage(), sql);
                }
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new StoreException("database: " + e.getMessage(), e);
        }
    }

    public String describe() {
        return description;
    }

    @Override
    public void close() {
        pool.close();
    }
}
