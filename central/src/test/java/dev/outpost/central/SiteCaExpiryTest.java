package dev.outpost.central;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.spiffe.SpiffeJwks;

/** An expired site CA leaves the bundle, and the sequence moves with it (the bundle never changes silently). */
class SiteCaExpiryTest {

    @Test
    void expiredSiteCaLeavesTheBundleWithASequenceBump(@TempDir Path dir) throws Exception {
        try (Harness h = Harness.h2(dir)) {
            Sites s = Sites.joinByToken(h, "short");
            assertThat(s.client().post("/v1/site/ca", Map.of("v", 1, "csr", Csrs.plain(Csrs.ecKey()), "ttlSeconds", 7200)).status())
                    .isEqualTo(200);
            String before = h.services().bundle.json(h.services().bundle.snapshot());
            long seq = h.sequence();
            assertThat(SpiffeJwks.parse(before).x509Authorities()).hasSize(2);

            h.clock.advance(Duration.ofHours(1));
            assertThat(h.app.housekeeping().runOnce()).isZero();
            assertThat(h.sequence()).isEqualTo(seq);
            assertThat(h.services().bundle.json(h.services().bundle.snapshot())).isEqualTo(before);

            h.clock.advance(Duration.ofHours(2));
            assertThat(h.app.housekeeping().runOnce()).isEqualTo(1);
            assertThat(h.sequence()).isEqualTo(seq + 1);
            assertThat(SpiffeJwks.parse(h.services().bundle.json(h.services().bundle.snapshot())).x509Authorities()).hasSize(1);
        }
    }

    @Test
    void joinEndpointsAreRateLimitedPerAddress(@TempDir Path dir) throws Exception {
        var cfg = Harness.config(dir, null);
        cfg.join.ratePerMinute = 2;
        try (Harness h = Harness.start(cfg)) {
            Map<String, Object> body = Map.of("v", 1, "site", "nobody", "token", "x", "csr", Csrs.plain(Csrs.ecKey()));
            assertThat(h.anonymous.post("/v1/join/token", body).status()).isEqualTo(403);
            assertThat(h.anonymous.post("/v1/join/token", body).status()).isEqualTo(403);
            SiteClient.Response limited = h.anonymous.post("/v1/join/token", body);
            assertThat(limited.status()).isEqualTo(429);
            assertThat(limited.errorCode()).isEqualTo("RATE_LIMITED");
            assertThat(limited.headers().get("retry-after")).isNotEmpty();
            h.clock.advance(Duration.ofMinutes(1));
            assertThat(h.anonymous.post("/v1/join/token", body).status()).isEqualTo(403);
        }
    }
}
