package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.appliance.store.OutboxStore;
import dev.outpost.central.app.CentralApp;
import dev.outpost.central.app.Services;
import dev.outpost.central.ca.CentralCa;
import dev.outpost.central.config.CentralConfig;
import dev.outpost.testkit.Postgres;

/** What the upward-link fault tests share: a central on PostgreSQL, a backlog of events, and the exactly-once check. */
final class LinkFaults {
    static final ObjectMapper JSON = new ObjectMapper();

    private LinkFaults() {
    }

    /** An upstream section joining by token to {@code urls}, with short timeouts so a broken link fails fast. */
    static String upstream(Path root, String token, Duration requestTimeout, int batchRows, String... urls) {
        return String.join("\n",
                "upstream:",
                "  urls: [" + String.join(", ", urls) + "]",
                "  caFile: " + root,
                "  join: token",
                "  token: " + token,
                "  connectTimeout: PT5S",
                "  requestTimeout: " + requestTimeout,
                "outbox:",
                "  batchRows: " + batchRows);
    }

    static String https(int port) {
        return "https://127.0.0.1:" + port;
    }

    /** {@code n} operator events (what an operator's acts at the site look like), written as the appliance writes them. */
    static void backlog(OutboxStore outbox, int n, String tag) {
        for (int i = 0; i < n; i++) {
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("action", "allow.add");
            data.put("target", String.format("%064x", (long) tag.hashCode() * 100_000 + i));
            data.put("detail", tag + " #" + i);
            outbox.appendAlone("operator", Instant.now(), null, data);
        }
    }

    /** Sends until central acknowledged everything (each try at once: the test restored the link). */
    static void drained(SiteHarness site, Duration max) throws Exception {
        OutboxStore outbox = site.appliance().outbox().store();
        await("outbox drained", max, () -> {
            site.appliance().outbox().sendNow();
            return outbox.backlog().rows() == 0;
        });
    }

    /** Central's events of the site, in seq order: {seq, kind, data}. */
    static List<String[]> centralEvents(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT seq, kind, data FROM site_events WHERE site = 'test-site' "
                + "ORDER BY seq"); ResultSet rs = ps.executeQuery()) {
            List<String[]> out = new ArrayList<>();
            while (rs.next()) {
                out.add(new String[] {Long.toString(rs.getLong(1)), rs.getString(2), rs.getString(3)});
            }
            return out;
        }
    }

    static List<String[]> centralEvents(Services central) {
        return central.db.inTransaction(LinkFaults::centralEvents);
    }

    /**
     * Every row the site wrote is at central once, as written (seq, kind, data), and central holds nothing else; the
     * site has nothing unacknowledged.
     */
    static void exactlyOnce(OutboxStore outbox, List<String[]> atCentral) throws Exception {
        OutboxStore.Backlog b = outbox.backlog();
        assertThat(b.rows()).as("nothing left unacknowledged").isZero();
        assertThat(b.ackedThrough()).isEqualTo(b.lastSeq());
        List<OutboxStore.Row> kept = outbox.rowsAfter(0, 100_000);
        assertThat(atCentral).as("one row at central per row at the site").hasSize(kept.size());
        assertThat(atCentral.stream().map(e -> e[0]).distinct().count()).as("no seq twice").isEqualTo(atCentral.size());
        for (int i = 0; i < kept.size(); i++) {
            OutboxStore.Row r = kept.get(i);
            assertThat(Long.parseLong(atCentral.get(i)[0])).isEqualTo(r.seq());
            assertThat(atCentral.get(i)[1]).isEqualTo(r.kind());
            assertThat(JSON.readTree(atCentral.get(i)[2])).isEqualTo(JSON.readTree(r.payload()));
        }
    }

    /** A central in this JVM on a PostgreSQL database (several may share it: give them the same CA files). */
    record PgCentral(Services services, CentralApp app) implements AutoCloseable {
        static CentralConfig config(Path dir, String jdbcUrl, int port) {
            CentralConfig c = new CentralConfig();
            c.trustDomain = SiteHarness.TRUST_DOMAIN;
            c.dataDir = dir.toString();
            c.database.url = jdbcUrl;
            c.database.user = Postgres.USER;
            c.server.host = "127.0.0.1";
            c.server.port = port;
            c.bundleEndpoint.host = "127.0.0.1";
            c.bundleEndpoint.port = 0;
            c.monitoring.port = 0;
            // Benchmarks join a hundred sites from one address.
            c.join.ratePerMinute = 1000;
            c.validate();
            return c;
        }

        static PgCentral start(Path dir, String jdbcUrl, int port) throws Exception {
            Services s = Services.open(config(dir, jdbcUrl, port), java.time.Clock.systemUTC());
            try {
                return new PgCentral(s, CentralApp.start(s));
            } catch (Exception e) {
                s.close();
                throw e;
            }
        }

        /** A second instance's data directory holding this one's CA (central refuses a second authority). */
        static void copyCa(Path from, Path to) throws Exception {
            Files.createDirectories(to.resolve("ca"));
            for (String f : new String[] {CentralCa.KEY_FILE, CentralCa.CERT_FILE}) {
                Files.copy(from.resolve("ca").resolve(f), to.resolve("ca").resolve(f),
                        java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
            }
        }

        Path rootPem(Path file) throws Exception {
            return Files.writeString(file, CentralLinkSiteTest.chainPem(services.ca.roots()));
        }

        @Override
        public void close() {
            app.close();
        }
    }
}
