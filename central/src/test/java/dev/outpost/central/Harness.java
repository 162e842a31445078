package dev.outpost.central;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;

import dev.outpost.central.app.CentralApp;
import dev.outpost.central.app.Services;
import dev.outpost.central.config.CentralConfig;
import dev.outpost.testkit.MutableClock;
import dev.outpost.testkit.Postgres;

/** A central for a test: config in a temp dir, H2 or a PostgreSQL database, ports chosen by the OS. */
public final class Harness implements AutoCloseable {
    public static final String TD = "corp.outpost.test";

    public final CentralConfig config;
    public final MutableClock clock;
    public final CentralApp app;
    public final SiteClient anonymous;

    private Harness(CentralConfig config, MutableClock clock, CentralApp app) {
        this.config = config;
        this.clock = clock;
        this.app = app;
        this.anonymous = SiteClient.anonymous(this);
    }

    /** H2 when {@code jdbcUrl} is null. */
    public static CentralConfig config(Path dir, String jdbcUrl) {
        CentralConfig c = new CentralConfig();
        c.trustDomain = TD;
        c.dataDir = dir.toString();
        c.database.url = jdbcUrl;
        if (jdbcUrl != null) {
            c.database.user = Postgres.USER;
        }
        c.server.host = "127.0.0.1";
        c.server.port = 0;
        c.bundleEndpoint.host = "127.0.0.1";
        c.bundleEndpoint.port = 0;
        c.monitoring.host = "127.0.0.1";
        c.monitoring.port = 0;
        c.join.ratePerMinute = 1000;
        c.validate();
        return c;
    }

    public static Harness start(CentralConfig config) throws Exception {
        return start(config, new MutableClock());
    }

    public static Harness start(CentralConfig config, MutableClock clock) throws Exception {
        Services s = Services.open(config, clock);
        try {
            return new Harness(config, clock, CentralApp.start(s));
        } catch (Exception e) {
            s.close();
            throw e;
        }
    }

    public static Harness h2(Path dir) throws Exception {
        return start(config(dir, null));
    }

    public Services services() {
        return app.services();
    }

    public String siteUrl(String path) {
        return "https://localhost:" + app.sitePort() + path;
    }

    public long sequence() {
        return count("SELECT sequence FROM bundle WHERE id = 1");
    }

    public long count(String sql) {
        return services().db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    /** A fingerprint of every table a refused request must leave alone. */
    public List<Long> stateFingerprint() {
        return List.of(sequence(), count("SELECT COUNT(*) FROM sites"), count("SELECT COUNT(*) FROM sites WHERE state = 'active'"),
                count("SELECT COUNT(*) FROM site_cas"), count("SELECT COUNT(*) FROM site_credentials"),
                count("SELECT COUNT(*) FROM join_tokens WHERE used_at IS NOT NULL"));
    }

    public static Path rootPem(Harness h, Path dir) throws IOException {
        Path p = dir.resolve("root-" + h.app.sitePort() + ".pem");
        Files.writeString(p, dev.outpost.spiffe.PemIo.encode(h.services().ca.roots()));
        return p;
    }

    @Override
    public void close() {
        app.close();
    }

}
