package dev.outpost.central.events;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.outpost.central.Harness;
import dev.outpost.central.SiteClient;
import dev.outpost.central.Sites;
import dev.outpost.central.Stores;
import dev.outpost.central.fleet.FleetView;

/** {@code POST /v1/site/events} against a real central on H2 and PostgreSQL: docs/upward-link.md "Store and forward". */
class SiteEventsTest {
    static final String DEV = "a".repeat(64);

    static Map<String, Object> event(long seq, String kind, Map<String, Object> data) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("seq", seq);
        e.put("at", "2026-12-06T10:00:0" + (seq % 10) + "Z");
        e.put("kind", kind);
        e.put("data", data);
        return e;
    }

    static Map<String, Object> batch(long from, long through, List<Map<String, Object>> events) {
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("v", 1);
        b.put("from", from);
        b.put("through", through);
        b.put("events", events);
        return b;
    }

    static Map<String, Object> state(long seq, String state) {
        return event(seq, "device.state", Map.of("deviceId", DEV, "state", state, "previous", "trusted",
                "reasons", List.of("pcr 7 changed")));
    }

    /** events.retention: old events go, the fleet view stays, and a resent old batch is still a repeat. */
    @ParameterizedTest
    @MethodSource("dev.outpost.central.Stores#both")
    void eventsPastTheirRetentionArePrunedAndStayAcknowledged(String store, @TempDir Path dir) throws Exception {
        try (Harness h = Stores.start(store, dir)) {
            Sites s = Sites.joinByToken(h, "archive");
            List<Map<String, Object>> old = List.of(
                    event(1, "device.enrolled", Map.of("deviceId", DEV, "spiffeId", "spiffe://x/d", "ekHash", "00", "via", "hash")),
                    state(2, "failed"));
            assertThat(s.client().post("/v1/site/events", batch(1, 2, old)).status()).isEqualTo(200);
            Map<String, Object> recent = event(3, "site.summary", Map.of("devices", Map.of("failed", 1)));
            recent.put("at", "2027-06-01T00:00:00Z");
            assertThat(s.client().post("/v1/site/events", batch(3, 3, List.of(recent))).status()).isEqualTo(200);

            int pruned = h.app.housekeeping().pruneEvents(java.time.Instant.parse("2027-01-01T00:00:00Z"));
            assertThat(pruned).isEqualTo(2);
            assertThat(h.count("SELECT COUNT(*) FROM site_events")).isEqualTo(1);
            assertThat(h.services().fleet.devices("archive", "failed")).hasSize(1);
            SiteClient.Response again = s.client().post("/v1/site/events", batch(1, 2, old));
            assertThat(again.status()).isEqualTo(200);
            assertThat(again.body().get("ackedThrough").asLong()).isEqualTo(3);
            assertThat(h.count("SELECT COUNT(*) FROM site_events")).as("not stored again").isEqualTo(1);
        }
    }

    /**
     * A site restored from a backup numbers its new events from where the backup ended, under seqs central already
     * holds: central names the first event that is not the one it holds there (stored or, when the site says where
     * its backup ended, absent) and stores nothing, instead of taking it as a repeat.
     */
    @ParameterizedTest
    @MethodSource("dev.outpost.central.Stores#both")
    void aRestoredSiteReusingNumbersIsToldWhereItsEventsDiverge(String store, @TempDir Path dir) throws Exception {
        try (Harness h = Stores.start(store, dir)) {
            Sites s = Sites.joinByToken(h, "ferry");
            List<Map<String, Object>> first = List.of(
                    event(1, "device.enrolled", Map.of("deviceId", DEV, "spiffeId", "spiffe://x/d", "ekHash", "00", "via", "hash")),
                    state(2, "trusted"), state(3, "failed"));
            assertThat(s.client().post("/v1/site/events", batch(1, 3, first)).status()).isEqualTo(200);
            // The same events again: a repeat.
            SiteClient.Response r = s.client().post("/v1/site/events", batch(1, 3, first));
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body().has("divergedAt")).isFalse();

            // Other events under seqs 2 and 4 (2 is held): 409 at 2, nothing stored, the acknowledgement unchanged.
            r = s.client().post("/v1/site/events", batch(2, 4, List.of(state(2, "revoked"), state(4, "trusted"))));
            assertThat(r.status()).isEqualTo(409);
            assertThat(r.errorCode()).isEqualTo("CONFLICT");
            assertThat(r.body().get("divergedAt").asLong()).isEqualTo(2);
            assertThat(r.body().get("ackedThrough").asLong()).isEqualTo(3);
            // Same kind and data at another time is another event too.
            Map<String, Object> later = state(3, "failed");
            later.put("at", "2026-12-07T10:00:03Z");
            r = s.client().post("/v1/site/events", batch(1, 3, List.of(first.get(0), first.get(1), later)));
            assertThat(r.body().get("divergedAt").asLong()).isEqualTo(3);
            assertThat(h.count("SELECT COUNT(*) FROM site_events")).isEqualTo(3);

            // Seqs 5 and 6 never arrive (coalesced at the site): acknowledged, not held.
            assertThat(s.client().post("/v1/site/events", batch(4, 6, List.of(state(4, "trusted")))).status()).isEqualTo(200);
            Map<String, Object> atFive = state(5, "failed");
            // Without a word of a restore, an event under an acknowledged seq central never held is a repeat.
            r = s.client().post("/v1/site/events", batch(5, 5, List.of(atFive)));
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body().get("ackedThrough").asLong()).isEqualTo(6);
            // A site restored from a backup that ended at 4: its seq 5 is new, central passed that number.
            Map<String, Object> restored = batch(4, 5, List.of(state(4, "trusted"), atFive));
            restored.put("restoredThrough", 4);
            r = s.client().post("/v1/site/events", restored);
            assertThat(r.status()).isEqualTo(409);
            assertThat(r.body().get("divergedAt").asLong()).isEqualTo(5);
            // A backup that ended at 5 held seq 5 before central passed it: a repeat.
            restored.put("restoredThrough", 5);
            assertThat(s.client().post("/v1/site/events", restored).status()).isEqualTo(200);
            restored.put("restoredThrough", -1);
            assertThat(s.client().post("/v1/site/events", restored).status()).isEqualTo(400);
            assertThat(h.count("SELECT COUNT(*) FROM site_events")).isEqualTo(4);
        }
    }

    @ParameterizedTest
    @MethodSource("dev.outpost.central.Stores#both")
    void aBatchIsStoredOnceWhateverIsRetried(String store, @TempDir Path dir) throws Exception {
        try (Harness h = Stores.start(store, dir)) {
            Sites s = Sites.joinByToken(h, "depot");
            List<Map<String, Object>> first = List.of(
                    event(1, "device.enrolled", Map.of("deviceId", DEV, "spiffeId", "spiffe://x/d", "ekHash", "00", "via", "hash")),
                    state(3, "trusted"));
            SiteClient.Response r = s.client().post("/v1/site/events", batch(1, 3, first));
            assertThat(r.status()).as(String.valueOf(r.body())).isEqualTo(200);
            assertThat(r.body().get("ackedThrough").asLong()).isEqualTo(3);
            // The same batch again (the site did not hear the answer): 200, nothing doubled.
            r = s.client().post("/v1/site/events", batch(1, 3, first));
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body().get("ackedThrough").asLong()).isEqualTo(3);
            assertThat(h.count("SELECT COUNT(*) FROM site_events")).isEqualTo(2);
            // An overlapping batch: only what is new is stored.
            r = s.client().post("/v1/site/events", batch(2, 5, List.of(state(3, "trusted"), state(5, "failed"),
                    event(5, "audit", Map.of()))));
            assertThat(r.status()).as("seq 5 twice is refused").isEqualTo(400);
            r = s.client().post("/v1/site/events", batch(2, 5, List.of(state(3, "trusted"), state(5, "failed"))));
            assertThat(r.status()).isEqualTo(200);
            assertThat(h.count("SELECT COUNT(*) FROM site_events")).isEqualTo(3);
            // A gap: 409 with where to resume, nothing stored.
            r = s.client().post("/v1/site/events", batch(7, 8, List.of(state(8, "trusted"))));
            assertThat(r.status()).isEqualTo(409);
            assertThat(r.errorCode()).isEqualTo("CONFLICT");
            assertThat(r.body().get("ackedThrough").asLong()).isEqualTo(5);
            assertThat(h.count("SELECT COUNT(*) FROM site_events")).isEqualTo(3);
            // The fleet view follows: the latest state wins, with its reasons.
            List<FleetView.Device> devices = h.services().fleet.devices("depot", "failed");
            assertThat(devices).singleElement().satisfies(d -> {
                assertThat(d.spiffeId()).isEqualTo("spiffe://x/d");
                assertThat(d.reasons()).containsExactly("pcr 7 changed");
            });
            assertThat(h.services().fleet.contacts()).singleElement().satisfies(c -> {
                assertThat(c.ackedThrough()).isEqualTo(5);
                assertThat(c.lastContact()).isNotNull();
            });
        }
    }

    @ParameterizedTest
    @MethodSource("dev.outpost.central.Stores#both")
    void badBatchesAreRefusedWhole(String store, @TempDir Path dir) throws Exception {
        try (Harness h = Stores.start(store, dir)) {
            Sites s = Sites.joinByToken(h, "depot");
            List<Object[]> bad = List.of(
                    new Object[] {batch(0, 1, List.of()), "from"},
                    new Object[] {batch(3, 2, List.of()), "from"},
                    new Object[] {batch(1, 2, List.of(state(3, "x"))), "strictly"},
                    new Object[] {batch(1, 3, List.of(state(2, "x"), state(2, "y"))), "strictly"},
                    new Object[] {batch(1, 1, List.of(event(1, "Bad Kind", Map.of()))), "kind"},
                    new Object[] {Map.of("v", 2, "from", 1, "through", 1, "events", List.of()), "\"v\""},
                    new Object[] {Map.of("v", 1, "from", 1, "through", 1, "events", List.of(), "extra", 1), "unknown field"});
            for (Object[] b : bad) {
                SiteClient.Response r = s.client().post("/v1/site/events", b[0]);
                assertThat(r.status()).as(String.valueOf(b[0])).isEqualTo(400);
                assertThat(r.errorMessage()).contains((String) b[1]);
            }
            Map<String, Object> at = event(1, "audit", Map.of());
            at.put("at", "yesterday");
            assertThat(s.client().post("/v1/site/events", batch(1, 1, List.of(at))).status()).isEqualTo(400);
            List<Map<String, Object>> many = new ArrayList<>();
            for (int i = 1; i <= 501; i++) {
                many.add(event(i, "audit", Map.of("id", i)));
            }
            assertThat(s.client().post("/v1/site/events", batch(1, 501, many)).status()).isEqualTo(400);
            // Over 64 KiB is fine here (the route's limit is 1 MiB), over 1 MiB is not.
            List<Map<String, Object>> big = new ArrayList<>();
            for (int i = 1; i <= 20; i++) {
                big.add(event(i, "audit", Map.of("detail", "x".repeat(10_000))));
            }
            assertThat(s.client().post("/v1/site/events", batch(1, 20, big)).status()).isEqualTo(200);
            SiteClient.Response r = s.client().post("/v1/site/events", new byte[1024 * 1024 + 1], "application/json");
            assertThat(r.status()).isEqualTo(413);
            assertThat(h.count("SELECT COUNT(*) FROM site_events")).isEqualTo(20);
            // Unauthenticated: 401, nothing stored.
            assertThat(h.anonymous.post("/v1/site/events", batch(21, 21, List.of())).status()).isEqualTo(401);
        }
    }

    /** Several instances on one PostgreSQL: the same batch raced at both lands once. */
    @Test
    void twoInstancesRacingOneBatchStoreItOnce(@TempDir Path dir) throws Exception {
        String url = Stores.url("postgresql");
        try (Harness first = Harness.start(Harness.config(dir.resolve("one"), url))) {
            java.nio.file.Files.createDirectories(dir.resolve("two").resolve("ca"));
            try (var files = java.nio.file.Files.list(dir.resolve("one").resolve("ca"))) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    java.nio.file.Files.copy(f, dir.resolve("two").resolve("ca").resolve(f.getFileName()));
                }
            }
            try (Harness second = Harness.start(Harness.config(dir.resolve("two"), url))) {
                Sites s = Sites.joinByToken(first, "depot");
                SiteClient viaSecond = SiteClient.withCredential(second, s.key(), s.credentialPem());
                List<Map<String, Object>> events = new ArrayList<>();
                for (int i = 1; i <= 200; i++) {
                    events.add(event(i, "audit", Map.of("id", i)));
                }
                Map<String, Object> b = batch(1, 200, events);
                ExecutorService pool = Executors.newFixedThreadPool(4);
                try {
                    List<Future<SiteClient.Response>> answers = new ArrayList<>();
                    for (int i = 0; i < 4; i++) {
                        SiteClient c = i % 2 == 0 ? s.client() : viaSecond;
                        answers.add(pool.submit(() -> c.post("/v1/site/events", b)));
                    }
                    for (Future<SiteClient.Response> a : answers) {
                        assertThat(a.get().status()).isEqualTo(200);
                        assertThat(a.get().body().get("ackedThrough").asLong()).isEqualTo(200);
                    }
                } finally {
                    pool.shutdownNow();
                }
                assertThat(first.count("SELECT COUNT(*) FROM site_events")).isEqualTo(200);
            }
        }
    }
}
