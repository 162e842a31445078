package dev.outpost.appliance.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;

import javax.sql.DataSource;

import org.flywaydb.core.Flyway;
import org.h2.engine.SessionLocal;
import org.h2.jdbc.JdbcConnection;
import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

/**
 * The appliance's embedded H2 database ({@code <dataDir>/outpost.mv.db}), migrated by Flyway at open.
 *
 * <p><b>Blocking.</b> Everything here is JDBC and blocks the calling thread: call it from a worker pool
 * ({@code executeBlocking} or a dedicated executor), never from a Vert.x event loop.
 *
 * <p><b>Durability.</b> The site appliance is the system of record while offline, so nothing a committed
 * transaction wrote may be lost when the process dies. H2's MVStore writes committed changes to the file from a
 * background thread up to {@code WRITE_DELAY} later; a kill -9 in that window loses them. {@link #inTransaction}
 * therefore does not return until its writes are in the file (the OS page cache): {@link GroupCommit} writes the
 * store once for all the transactions that committed meanwhile. ({@code WRITE_DELAY=0} gave the same guarantee
 * with one write per commit, which under load cost more CPU than the transactions themselves.)
 * {@code DatabaseDurabilityTest} kills writing JVMs with SIGKILL and finds every acknowledged row. H2 does not
 * fsync each write: an OS crash or power cut can still lose the last moments (documented limit).
 */
public final class Database implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Database.class);
    public static final String FILE_NAME = "outpost";
    static final int MAX_CONNECTIONS = 8;
    // WRITE_DELAY: H2's own background write, a backstop; durability comes from GroupCommit (see above).
    // DB_CLOSE_ON_EXIT=FALSE: our own shutdown closes the database after the last writer is done, instead of
    // H2's JVM hook racing it. FILE_LOCK=FILE (the default) keeps a second process out. LOCK_TIMEOUT: a writer
    // waiting on a row another short transaction holds (ActivationStore.take) waits rather than failing at 1 s.
    // QUERY_CACHE_SIZE: parsed statements kept per connection; the default 8 is fewer than the statements the
    // appliance runs, and with eight pooled connections each sees all of them.
    static final String SETTINGS = ";WRITE_DELAY=1000;DB_CLOSE_ON_EXIT=FALSE;FILE_LOCK=FILE;LOCK_TIMEOUT=10000;QUERY_CACHE_SIZE=64";

    // Rows past it are read from H2 each time; 50,000 devices of ~2 KB (an EK certificate each, and an attestation
    // record of a few hundred bytes) is ~120 MB at most.
    static final int MAX_CACHED_DEVICES = 50_000;

    private final HikariDataSource pool;
    private final Path file;
    private final OutboxStore outbox;
    private final RowCache<DeviceRecord> deviceRows = new RowCache<>(MAX_CACHED_DEVICES);
    private final RowCache<AttestationRecord> attestationRows = new RowCache<>(MAX_CACHED_DEVICES);
    // replaced when H2 reopens the database after closing it (a failed write): see GroupCommit
    private volatile GroupCommit commits;

    private Database(HikariDataSource pool, Path file) {
        this.pool = pool;
        this.file = file;
        this.outbox = new OutboxStore(this);
    }

    /** Device rows as last committed, shared by every {@link DeviceStore} of this database. */
    RowCache<DeviceRecord> deviceRows() {
        return deviceRows;
    }

    /** Attestation records as last committed, shared by every {@link AttestationStore} of this database. */
    RowCache<AttestationRecord> attestationRows() {
        return attestationRows;
    }

    /** The outbox every store appends to inside its own transactions (one per database: it holds the bound). */
    public OutboxStore outbox() {
        return outbox;
    }

    public static Database open(Path dataDir) {
        Path dir = dataDir.toAbsolutePath().normalize();
        // A ';' would end the file name in the JDBC URL and the rest would be read as settings.
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
        try {
            OwnerOnlyFiles.narrowExisting(dir, FILE_NAME);
        } catch (IOException e) {
            throw new StoreException("cannot make the database files in " + dir + " owner-only: " + e.getMessage(), e);
        }
        // Through OwnerOnlyFiles: every file H2 makes for this database (data, trace, temp results) is 0600.
        String url = "jdbc:h2:" + OwnerOnlyFiles.url(dir.resolve(FILE_NAME)) + SETTINGS;
        // HikariCP, not H2's own JdbcConnectionPool: H2's pool rolls back every connection handed back, and a
        // rollback empties the session's cache of parsed statements, so every query was parsed again.
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(url);
        hc.setUsername("outpost");
        hc.setPassword("");
        hc.setPoolName("outpost-h2");
        hc.setMaximumPoolSize(MAX_CONNECTIONS);
        hc.setMinimumIdle(MAX_CONNECTIONS);
        hc.setConnectionTimeout(30_000);
        // Embedded connections need no recycling, and H2 closes the database when its last connection closes:
        // keep the same eight for the life of the pool.
        hc.setMaxLifetime(0);
        // A database H2 closed (a write failed: disk full) must not stay in the pool, or it never comes back.
        hc.setExceptionOverrideClassName(ClosedDatabaseEvicts.class.getName());
        HikariDataSource pool;
        try {
            pool = new HikariDataSource(hc);
        } catch (RuntimeException e) {
            throw new StoreException("cannot open or migrate the database in " + dir + ": " + e.getMessage(), e);
        }
        try {
            Flyway.configure()
                    .dataSource(pool)
                    .locations("classpath:db/migration")
                    .failOnMissingLocations(true)
                    .load()
                    .migrate();
        } catch (RuntimeException e) {
            pool.close();
            throw new StoreException("cannot open or migrate the database in " + dir + ": " + e.getMessage(), e);
        }
        Database db = new Database(pool, dir.resolve(FILE_NAME + ".mv.db"));
        try {
            // Flyway commits through its own connections: make its migrations durable before anything relies on them
            // (a kill right after a migration ran would otherwise find its tables but not its history row).
            db.awaitDurable();
        } catch (RuntimeException e) {
            pool.close();
            throw new StoreException("cannot open or migrate the database in " + dir + ": " + e.getMessage(), e);
        }
        LOG.info("database open: {}.mv.db", dir.resolve(FILE_NAME));
        return db;
    }

    /**
     * Runs {@code work} in one transaction: committed when it returns, rolled back when it throws (the
     * exception is rethrown; SQL errors as {@link StoreException}). Do not call the stores from inside
     * {@code work}: each call takes its own connection and transaction, so it would neither join this one nor,
     * with every pooled connection busy, make progress. A transaction that wrote returns once its writes are in
     * the database file. (Not DDL, which H2 commits by itself: only migrations run it, and {@link #open} makes
     * them durable.)
     */
    public <T> T inTransaction(SqlWork<T> work) {
        try (Connection c = pool.getConnection()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                SessionLocal session = session(c);
                boolean wrote = session.hasPendingTransaction();
                MVStore store = session.getDatabase().getStore().getMvStore();
                c.commit();
                rowsSettled();
                if (wrote) {
                    commitsOf(store).awaitDurable();
                }
                return result;
            } catch (SQLException | RuntimeException | Error e) {
                try {
                    c.rollback();
                } catch (SQLException re) {
                    e.addSuppressed(re);
                } finally {
                    rowsSettled();
                }
                if (e instanceof SQLException sql) {
                    throw new StoreException("database: " + sql.getMessage(), sql);
                }
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new StoreException("database connection: " + e.getMessage(), e);
        }
    }

    // Before the transaction returns: its caller (and whoever it tells) must not find the row as it was.
    private void rowsSettled() {
        for (RowsChanged.Row r : RowsChanged.drain()) {
            switch (r.table()) {
                case "DEVICES" -> deviceRows.changed(r.deviceId());
                case "ATTESTATIONS" -> attestationRows.changed(r.deviceId());
                default -> throw new IllegalStateException("a RowsChanged trigger on " + r.table() + " has no cache");
            }
        }
    }

    /**
     * Reads in one transaction that sees every table as it was at its first read (H2's SNAPSHOT isolation), for a
     * read that walks several tables while the appliance writes: REPEATABLE READ would still let rows committed
     * meanwhile appear in a later query (phantoms), such as records past a chain head already read. Read only.
     */
    public <T> T inSnapshot(SqlWork<T> work) {
        return inTransaction(c -> {
            int isolation = c.getTransactionIsolation();
            c.setTransactionIsolation(org.h2.engine.Constants.TRANSACTION_SNAPSHOT);
            try {
                return work.run(c);
            } finally {
                c.commit();
                c.setTransactionIsolation(isolation);
            }
        });
    }

    /** Returns once everything committed so far, by any transaction, is in the database file. */
    public void awaitDurable() {
        try (Connection c = pool.getConnection()) {
            commitsOf(session(c).getDatabase().getStore().getMvStore()).awaitDurable();
        } catch (SQLException e) {
            throw new StoreException("database connection: " + e.getMessage(), e);
        }
    }

    private static SessionLocal session(Connection c) throws SQLException {
        return (SessionLocal) c.unwrap(JdbcConnection.class).getSession();
    }

    private GroupCommit commitsOf(MVStore store) {
        GroupCommit g = commits;
        if (g == null || !g.isFor(store)) {
            synchronized (this) {
                g = commits;
                if (g == null || !g.isFor(store)) {
                    g = new GroupCommit(store);
                    commits = g;
                }
            }
        }
        return g;
    }

    /**
     * H2's housekeeping, which its background writer runs only while the store is idle (a busy appliance never
     * is): rewrites the live pages of sparsely used chunks so those chunks can be freed and their space reused.
     * Without it the file kept growing under 10,000 devices (superseded chunks stayed partly live, never freed). Returns the
     * chunks' fill rate (percent) after the pass. H2's internal API, pinned by the H2 version in the parent POM.
     */
    public int compactStep(int targetFillRate, int maxWriteBytes) {
        try (Connection c = pool.getConnection()) {
            MVStore mv = session(c).getDatabase().getStore().getMvStore();
            mv.compact(targetFillRate, maxWriteBytes);
            return mv.getFileStore().getChunksFillRate();
        } catch (SQLException e) {
            throw new StoreException("database connection: " + e.getMessage(), e);
        }
    }

    /**
     * H2's online backup: a consistent copy of the database as of one moment, taken while writers go on, as a zip
     * holding {@code outpost.mv.db}. Created 0600 (it holds what the database holds).
     */
    public void backupTo(Path zip) {
        String target = OwnerOnlyFiles.url(zip).replace("'", "''");
        inTransaction(c -> {
            try (java.sql.Statement st = c.createStatement()) {
                st.execute("BACKUP TO '" + target + "'");
            }
            return null;
        });
    }

    /** For code that needs plain JDBC (health checks, future migrations); same blocking rule. */
    public DataSource dataSource() {
        return pool;
    }

    public Path file() {
        return file;
    }

    /** Closes every pooled connection; H2 closes the file when the last one goes. */
    @Override
    public void close() {
        pool.close();
        LOG.info("database closed");
    }
}
