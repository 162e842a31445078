package dev.outpost.central;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.JsonNode;

import dev.outpost.spiffe.SpiffeJwks;

/**
 * {@code POST /v1/site/jwt-authorities}: a nested site's JWT authority keys go into the trust domain bundle (use
 * jwt-svid, the sequence moving), are replaced whole, leave with a revoked site, and are refused when malformed, when
 * a kid is not its key's, or when another site already holds the key.
 */
class SiteJwtAuthoritiesTest {

    @ParameterizedTest
    @MethodSource("dev.outpost.central.Stores#both")
    void aSitesJwtKeysArePublishedInTheTrustDomainBundle(String store, @TempDir Path dir) throws Exception {
        try (Harness h = Stores.start(store, dir)) {
            Sites a = Sites.joinByToken(h, "site-a");
            Sites b = Sites.joinByToken(h, "site-b");
            PublicKey k1 = Csrs.ecKey().getPublic();
            PublicKey k2 = Csrs.ecKey().getPublic();
            long seq0 = h.sequence();

            SiteClient.Response r = a.client().post("/v1/site/jwt-authorities", jwks(k1, k2));
            assertThat(r.status()).as(String.valueOf(r.body())).isEqualTo(200);
            assertThat(r.body().get("keys").asInt()).isEqualTo(2);
            assertThat(h.sequence()).isGreaterThan(seq0);
            Map<String, PublicKey> published = published(h);
            assertThat(published).containsEntry(SpiffeJwks.kidOf(k1), k1).containsEntry(SpiffeJwks.kidOf(k2), k2);
            // What sites fetch (GET /v1/site/bundle) carries them too.
            JsonNode siteView = b.client().get("/v1/site/bundle", null).body();
            assertThat(SpiffeJwks.parse(siteView.get("bundle").toString()).jwtAuthorities()).containsKeys(
                    SpiffeJwks.kidOf(k1), SpiffeJwks.kidOf(k2));

            // The same set again changes nothing; a new set replaces the old one whole.
            long seq1 = h.sequence();
            assertThat(a.client().post("/v1/site/jwt-authorities", jwks(k1, k2)).status()).isEqualTo(200);
            assertThat(h.sequence()).isEqualTo(seq1);
            assertThat(a.client().post("/v1/site/jwt-authorities", jwks(k2)).status()).isEqualTo(200);
            assertThat(h.sequence()).isGreaterThan(seq1);
            assertThat(published(h)).containsKey(SpiffeJwks.kidOf(k2)).doesNotContainKey(SpiffeJwks.kidOf(k1));

            // Another site cannot claim site-a's key.
            SiteClient.Response stolen = b.client().post("/v1/site/jwt-authorities", jwks(k2));
            assertThat(stolen.status()).isEqualTo(409);
            assertThat(stolen.errorMessage()).contains("another site");

            h.services().admin.revoke("site-a", "gateway stolen");
            assertThat(published(h)).doesNotContainKey(SpiffeJwks.kidOf(k2));
        }
    }

    @Test
    void malformedOrMislabelledKeysAreRefusedAndNothingChanges(@TempDir Path dir) throws Exception {
        try (Harness h = Harness.h2(dir)) {
            Sites a = Sites.joinByToken(h, "site-a");
            long seq = h.sequence();
            PublicKey k = Csrs.ecKey().getPublic();
            Map<String, Object> key = SpiffeJwks.jwtSvidKey(k, "not-its-kid");
            refused(a.client().post("/v1/site/jwt-authorities", Map.of("keys", List.of(key))), 400, "is not the key's kid");
            refused(a.client().post("/v1/site/jwt-authorities", Map.of("keys", List.of())), 400, "1..8 jwt-svid keys");
            List<Object> many = new ArrayList<>();
            for (int i = 0; i < 9; i++) {
                PublicKey p = Csrs.ecKey().getPublic();
                many.add(SpiffeJwks.jwtSvidKey(p, SpiffeJwks.kidOf(p)));
            }
            refused(a.client().post("/v1/site/jwt-authorities", Map.of("keys", many)), 400, "1..8 jwt-svid keys");
            Map<String, Object> offCurve = new java.util.LinkedHashMap<>(SpiffeJwks.jwtSvidKey(k, SpiffeJwks.kidOf(k)));
            offCurve.put("y", offCurve.get("x"));
            refused(a.client().post("/v1/site/jwt-authorities", Map.of("keys", List.of(offCurve))), 400, "keys[0]");
            Map<String, Object> noKid = new java.util.LinkedHashMap<>(SpiffeJwks.jwtSvidKey(k, "x"));
            noKid.remove("kid");
            refused(a.client().post("/v1/site/jwt-authorities", Map.of("keys", List.of(noKid))), 400, "needs a kid");
            refused(a.client().post("/v1/site/jwt-authorities", "[]".getBytes(), "application/json"), 400, "not a JSON object");
            refused(SiteClient.anonymous(h).post("/v1/site/jwt-authorities", jwks(k)), 401, "");
            assertThat(h.sequence()).isEqualTo(seq);
            assertThat(published(h)).isEmpty();
        }
    }

    private static void refused(SiteClient.Response r, int status, String why) {
        assertThat(r.status()).as(String.valueOf(r.body())).isEqualTo(status);
        if (!why.isEmpty()) {
            assertThat(r.errorMessage()).contains(why);
        }
    }

    private static Map<String, Object> jwks(PublicKey... keys) {
        List<Object> list = new ArrayList<>();
        for (PublicKey k : keys) {
            list.add(SpiffeJwks.jwtSvidKey(k, SpiffeJwks.kidOf(k)));
        }
        return Map.of("keys", list);
    }

    private static Map<String, PublicKey> published(Harness h) throws Exception {
        return SpiffeJwks.parse(h.services().bundle.json(h.services().bundle.snapshot())).jwtAuthorities();
    }
}
