package dev.outpost.central;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.testkit.CliRun;

/** The fallback for a gateway without a TPM: a single-use, expiring token, visible as such. */
class TokenJoinTest {

    @ParameterizedTest
    @MethodSource("dev.outpost.central.Stores#both")
    void aTokenWorksOnceAndNeverAgain(String store, @TempDir Path dir) throws Exception {
        try (Harness h = Stores.start(store, dir)) {
            String token = h.services().admin.add("shop-1", null, Duration.ofHours(24)).token();
            assertThat(token).hasSizeGreaterThanOrEqualTo(43);
            assertThat(h.anonymous.post("/v1/join/token", join("shop-1", token)).status()).isEqualTo(200);
            assertThat(h.services().admin.show("shop-1").orElseThrow().site().joinedBy()).isEqualTo("token");

            List<Long> before = h.stateFingerprint();
            SiteClient.Response again = h.anonymous.post("/v1/join/token", join("shop-1", token));
            assertThat(again.status()).isEqualTo(409);
            assertThat(again.errorMessage()).contains("already joined");
            assertThat(h.stateFingerprint()).isEqualTo(before);
        }
    }

    /** A site whose join answer was lost asks again with the same key: it gets a credential again, nobody else does. */
    @ParameterizedTest
    @MethodSource("dev.outpost.central.Stores#both")
    void aJoinRepeatedWithTheFirstKeyIsAnsweredAgainUntilTheTokenExpires(String store, @TempDir Path dir) throws Exception {
        try (Harness h = Stores.start(store, dir)) {
            String token = h.services().admin.add("shop-2", null, Duration.ofHours(24)).token();
            java.security.KeyPair key = Csrs.ecKey();
            Map<String, Object> first = Map.of("v", 1, "site", "shop-2", "token", token, "csr", Csrs.plain(key));
            SiteClient.Response one = h.anonymous.post("/v1/join/token", first);
            assertThat(one.status()).isEqualTo(200);
            SiteClient.Response two = h.anonymous.post("/v1/join/token",
                    Map.of("v", 1, "site", "shop-2", "token", token, "csr", Csrs.plain(key)));
            assertThat(two.status()).as("the repeat of a lost answer").isEqualTo(200);
            assertThat(h.services().admin.show("shop-2").orElseThrow().site().state()).isEqualTo("active");

            SiteClient.Response stolen = h.anonymous.post("/v1/join/token", join("shop-2", token));
            assertThat(stolen.status()).as("the token with another key").isEqualTo(409);
            assertThat(stolen.errorMessage()).contains("only with the key of the first");

            h.clock.advance(Duration.ofHours(25));
            SiteClient.Response late = h.anonymous.post("/v1/join/token",
                    Map.of("v", 1, "site", "shop-2", "token", token, "csr", Csrs.plain(key)));
            assertThat(late.status()).isEqualTo(403);
            assertThat(late.errorMessage()).contains("expired");
        }
    }

    @ParameterizedTest
    @MethodSource("dev.outpost.central.Stores#both")
    void expiredWrongAndRevokedAreRefusedAndChangeNothing(String store, @TempDir Path dir) throws Exception {
        try (Harness h = Stores.start(store, dir)) {
            String late = h.services().admin.add("late", null, Duration.ofHours(1)).token();
            String other = h.services().admin.add("other", null, Duration.ofHours(48)).token();
            String gone = h.services().admin.add("gone", null, Duration.ofHours(48)).token();
            h.services().admin.revoke("gone", "closed");
            h.clock.advance(Duration.ofHours(2));
            List<Long> before = h.stateFingerprint();

            SiteClient.Response expired = h.anonymous.post("/v1/join/token", join("late", late));
            assertThat(expired.status()).isEqualTo(403);
            assertThat(expired.errorMessage()).contains("expired");

            SiteClient.Response wrong = h.anonymous.post("/v1/join/token", join("late", other));
            assertThat(wrong.status()).isEqualTo(403);
            assertThat(wrong.errorMessage()).contains("not the one made for site late");

            SiteClient.Response revoked = h.anonymous.post("/v1/join/token", join("gone", gone));
            assertThat(revoked.status()).isEqualTo(403);
            assertThat(revoked.errorMessage()).contains("revoked");

            assertThat(h.anonymous.post("/v1/join/token", join("nobody", other)).status()).isEqualTo(403);
            assertThat(h.stateFingerprint()).isEqualTo(before);

            // A bad CSR does not burn the token.
            SiteClient.Response badCsr = h.anonymous.post("/v1/join/token", Map.of("v", 1, "site", "other", "token", other,
                    "csr", Csrs.askingForCa(Csrs.ecKey())));
            assertThat(badCsr.status()).isEqualTo(400);
            assertThat(h.anonymous.post("/v1/join/token", join("other", other)).status()).isEqualTo(200);

            // Decisions about registered sites are audited with their reason; unregistered names are not.
            CliRun audit = CliRun.run(dev.outpost.central.cli.CentralCli::commandLine, "audit", "--json", "--config",
                    writeConfig(h, dir).toString());
            assertThat(audit.exitCode()).as(audit.err()).isZero();
            com.fasterxml.jackson.databind.JsonNode rows = SiteClient.JSON.readTree(audit.out());
            assertThat(rows.toString()).contains("\"site\":\"late\"").contains("expired").contains("\"decision\":\"deny\"")
                    .contains("\"action\":\"join\"").contains("joined by token").contains("\"action\":\"revoke\"")
                    .doesNotContain("nobody");
        }
    }

    private static Path writeConfig(Harness h, Path dir) throws Exception {
        Path yaml = dir.resolve("central.yaml");
        String db = h.config.database.url == null ? ""
                : "database: {url: \"" + h.config.database.url + "\", user: " + h.config.database.user + "}\n";
        java.nio.file.Files.writeString(yaml, "trustDomain: " + Harness.TD + "\ndataDir: " + h.config.dataDir + "\n" + db);
        return yaml;
    }

    static Map<String, Object> join(String site, String token) throws Exception {
        return Map.of("v", 1, "site", site, "token", token, "csr", Csrs.plain(Csrs.ecKey()));
    }
}
