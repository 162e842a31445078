package dev.outpost.central.directives;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.JsonNode;

import dev.outpost.central.Harness;
import dev.outpost.central.SiteClient;
import dev.outpost.central.Sites;
import dev.outpost.central.Stores;
import dev.outpost.ima.policy.RuntimePolicyBuilder;
import dev.outpost.ima.policy.RuntimePolicyJson;
import dev.outpost.tpm.HashAlg;

/**
 * {@code GET /v1/site/directives} on H2 and PostgreSQL: versions in order from one sequence, pages of 100, strict
 * {@code after}, a revoked site refused; and the decisions behind them refused with reasons, writing nothing.
 */
class DirectivesApiTest {

    static byte[] runtimePolicy(String path) {
        RuntimePolicyBuilder b = new RuntimePolicyBuilder(List.of(), HashAlg.SHA256);
        b.addFile(path, HashAlg.SHA256.digest(path.getBytes(StandardCharsets.UTF_8)));
        return new RuntimePolicyJson().write(b.build());
    }

    static String hash(int i) {
        return String.format("%064x", i);
    }

    @ParameterizedTest
    @MethodSource("dev.outpost.central.Stores#both")
    void sitesGetDirectivesInVersionOrderAndPages(String store, @TempDir Path dir) throws Exception {
        try (Harness h = Stores.start(store, dir)) {
            Sites a = Sites.joinByToken(h, "site-a");
            SiteClient.Response none = a.client().get("/v1/site/directives?after=0", null);
            assertThat(none.status()).as(String.valueOf(none.body())).isEqualTo(200);
            assertThat(none.body().get("latest").asLong()).isZero();
            assertThat(none.body().get("directives")).isEmpty();

            DirectiveAdmin admin = new DirectiveAdmin(h.services().db, h.clock);
            byte[] policy = runtimePolicy("/usr/bin/agent");
            long ban = admin.ban(hash(7), "stolen", "test").version();
            long put = admin.push("line-runtime", "runtime", policy, "test").version();
            long assign = admin.assign("line-runtime", "line-1", "test").version();
            long delete = admin.delete("line-runtime", "test").version();
            assertThat(List.of(ban, put, assign, delete)).isSorted().doesNotHaveDuplicates();

            JsonNode all = a.client().get("/v1/site/directives?after=0", null).body();
            assertThat(all.get("v").asInt()).isEqualTo(1);
            assertThat(all.get("latest").asLong()).isEqualTo(delete);
            List<String> kinds = new ArrayList<>();
            all.get("directives").forEach(d -> kinds.add(d.get("kind").asText()));
            assertThat(kinds).containsExactly("device.ban", "policy.put", "policy.assign", "policy.delete");
            JsonNode first = all.get("directives").get(0);
            assertThat(first.get("version").asLong()).isEqualTo(ban);
            assertThat(first.get("data").get("ekHash").asText()).isEqualTo(hash(7));
            assertThat(first.get("data").get("reason").asText()).isEqualTo("stolen");
            JsonNode pushed = all.get("directives").get(1).get("data");
            assertThat(pushed.get("content").asText().getBytes(StandardCharsets.UTF_8)).isEqualTo(policy);
            assertThat(pushed.get("kind").asText()).isEqualTo("runtime");
            assertThat(pushed.get("sha256").asText()).hasSize(64);
            assertThat(all.get("directives").get(2).get("data").get("label").asText()).isEqualTo("line-1");

            JsonNode rest = a.client().get("/v1/site/directives?after=" + put, null).body();
            assertThat(rest.get("directives")).hasSize(2);
            assertThat(rest.get("directives").get(0).get("version").asLong()).isEqualTo(assign);
            assertThat(a.client().get("/v1/site/directives?after=" + delete, null).body().get("directives")).isEmpty();

            for (int i = 0; i < 150; i++) {
                admin.ban(hash(1000 + i), "batch " + i, "test");
            }
            JsonNode page1 = a.client().get("/v1/site/directives?after=0", null).body();
            assertThat(page1.get("directives")).hasSize(DirectiveFeed.MAX_PER_ANSWER);
            long latest = page1.get("latest").asLong();
            assertThat(latest).isEqualTo(delete + 150);
            long last = page1.get("directives").get(99).get("version").asLong();
            JsonNode page2 = a.client().get("/v1/site/directives?after=" + last, null).body();
            assertThat(page2.get("directives")).hasSize(54);
            assertThat(page2.get("directives").get(53).get("version").asLong()).isEqualTo(latest);

            // The site credential is required, and a revoked site gets nothing.
            assertThat(h.anonymous.get("/v1/site/directives?after=0", null).status()).isEqualTo(401);
            h.services().admin.revoke("site-a", "closed");
            SiteClient.Response revoked = a.client().get("/v1/site/directives?after=0", null);
            assertThat(revoked.status()).isEqualTo(403);
            assertThat(revoked.errorCode()).isEqualTo("FORBIDDEN");
        }
    }

    // Racing writers serialize on the counter row (which is what hands versions out in commit order): each gets its
    // own version, 1 to 40 without a hole, and none fails on a lock.
    @ParameterizedTest
    @MethodSource("dev.outpost.central.Stores#both")
    void concurrentDecisionsGetGaplessVersions(String store, @TempDir Path dir) throws Exception {
        try (Harness h = Stores.start(store, dir)) {
            DirectiveAdmin admin = new DirectiveAdmin(h.services().db, h.clock);
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
            try {
                List<java.util.concurrent.Future<Long>> made = new ArrayList<>();
                for (int i = 0; i < 40; i++) {
                    int n = i;
                    made.add(pool.submit(() -> admin.ban(hash(5000 + n), "race " + n, "test").version()));
                }
                List<Long> versions = new ArrayList<>();
                for (var f : made) {
                    versions.add(f.get());
                }
                versions.sort(null);
                List<Long> expected = new ArrayList<>();
                for (long v = 1; v <= 40; v++) {
                    expected.add(v);
                }
                assertThat(versions).isEqualTo(expected);
            } finally {
                pool.shutdown();
            }
        }
    }

    @ParameterizedTest
    @MethodSource("dev.outpost.central.Stores#both")
    void badInputIsRefusedWithAReasonAndWritesNothing(String store, @TempDir Path dir) throws Exception {
        try (Harness h = Stores.start(store, dir)) {
            Sites a = Sites.joinByToken(h, "site-b");
            for (String q : new String[] {"", "?after=", "?after=-1", "?after=abc", "?after=1.5", "?after=01",
                    "?after=99999999999999999999", "?after=1&after=2", "?after=1&limit=5", "?before=3"}) {
                SiteClient.Response r = a.client().get("/v1/site/directives" + q, null);
                assertThat(r.status()).as(q + " " + r.body()).isEqualTo(400);
                assertThat(r.errorCode()).isEqualTo("BAD_REQUEST");
                assertThat(r.errorMessage()).as(q).isNotBlank();
            }

            DirectiveAdmin admin = new DirectiveAdmin(h.services().db, h.clock);
            admin.ban(hash(1), "stolen", "test");
            admin.push("p", "runtime", runtimePolicy("/bin/x"), "test");
            long before = admin.latest();
            List<Runnable> refused = List.of(
                    () -> admin.ban("ABC", "x", "test"),
                    () -> admin.ban(hash(2), " ", "test"),
                    () -> admin.ban(hash(2), "line\nbreak", "test"),
                    () -> admin.ban(hash(1), "again", "test"),
                    () -> admin.push("p", "kernel", runtimePolicy("/bin/x"), "test"),
                    () -> admin.push("bad name", "runtime", runtimePolicy("/bin/x"), "test"),
                    () -> admin.push("q", "runtime", "{\"not\":\"a policy\"}".getBytes(StandardCharsets.UTF_8), "test"),
                    () -> admin.push("q", "boot", runtimePolicy("/bin/x"), "test"),
                    () -> admin.push("q", "runtime", new byte[DirectiveAdmin.MAX_POLICY_BYTES + 1], "test"),
                    () -> admin.assign("nosuch", "line-1", "test"),
                    () -> admin.assign("p", "bad label!", "test"),
                    () -> admin.delete("nosuch", "test"));
            for (Runnable r : refused) {
                assertThatThrownBy(r::run).isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining("Exception");
            }
            assertThat(admin.latest()).isEqualTo(before);
            assertThat(admin.policies()).extracting(DirectiveStore.FleetPolicy::name).containsExactly("p");
        }
    }
}
