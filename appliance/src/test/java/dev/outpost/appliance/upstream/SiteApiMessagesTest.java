package dev.outpost.appliance.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.appliance.ca.TrustBundle;
import dev.outpost.tpm.keys.Pem;

/**
 * The site API's bodies against docs/upward-link.md, without a network: what we send has exactly the contract's
 * fields; what central answers is refused unless it is exactly what the contract says (version, no unknown field,
 * types, limits, PEM that parses).
 */
class SiteApiMessagesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    java.nio.file.Path dir;

    @Test
    void requestsCarryExactlyTheContractsFields() throws Exception {
        JsonNode begin = JSON.readTree(SiteApiMessages.joinTpmBegin("plant-1", new byte[] {1}, null, new byte[] {2}));
        assertThat(names(begin)).containsExactlyInAnyOrder("v", "site", "ekPublic", "ekCertificate", "akPublic");
        assertThat(begin.get("ekCertificate").isNull()).isTrue();
        assertThat(begin.get("v").asInt()).isEqualTo(1);
        assertThat(names(JSON.readTree(SiteApiMessages.joinTpmFinish("j", new byte[32], "PEM"))))
                .containsExactlyInAnyOrder("v", "joinId", "secret", "csr");
        assertThat(names(JSON.readTree(SiteApiMessages.joinToken("plant-1", "t", "PEM"))))
                .containsExactlyInAnyOrder("v", "site", "token", "csr");
        JsonNode ca = JSON.readTree(SiteApiMessages.signCa("PEM", 7776000L));
        assertThat(names(ca)).containsExactlyInAnyOrder("v", "csr", "ttlSeconds");
        assertThat(ca.get("ttlSeconds").asLong()).isEqualTo(7776000L);
    }

    @Test
    void signedCaIsParsedStrictly() throws Exception {
        SiteCa root = SiteCa.loadOrCreate(dir.resolve("root"), "corp.example", "central", Duration.ofDays(30), Clock.systemUTC());
        String rootPem = Pem.certificate(root.certificate());
        String ok = "{\"v\":1,\"certificate\":" + q(rootPem) + ",\"chain\":\"\",\"trustBundle\":" + q(rootPem)
                + ",\"notAfter\":\"2030-01-01T00:00:00Z\"}";
        SiteApiMessages.SignedCa s = SiteApiMessages.signedCa(bytes(ok));
        assertThat(s.trustBundle()).hasSize(1);
        assertThat(s.notAfter()).isEqualTo(Instant.parse("2030-01-01T00:00:00Z"));
        assertThat(s.chainPem()).contains("BEGIN CERTIFICATE");

        refused(ok.replace("\"v\":1", "\"v\":2"), "\"v\": 1");
        refused(ok.replace("{\"v\":1,", "{\"v\":1,\"extra\":true,"), "unknown field 'extra'");
        refused(ok.replace(",\"notAfter\":\"2030-01-01T00:00:00Z\"", ""), "field 'notAfter' missing");
        refused(ok.replace("2030-01-01T00:00:00Z", "next year"), "RFC 3339");
        refused(ok.replace(q(rootPem) + ",\"chain\"", "\"not pem\",\"chain\""), "certificate");
        refused("[1,2]", "not a JSON object");
        refused("{\"v\":1", "not JSON");
        refused(ok.replace(q(rootPem) + ",\"chain\"", q("x".repeat(70_000)) + ",\"chain\""),
                "certificate must be a string of at most");
        assertThatThrownBy(() -> SiteApiMessages.signedCa(new byte[SiteApiMessages.MAX_RESPONSE_BYTES + 1]))
                .hasMessageContaining("over");
    }

    @Test
    void bundlesAndTheFollowerTakeOnlyFederatedRootsAndOnlyForward() throws Exception {
        SiteCa site = SiteCa.loadOrCreate(dir.resolve("site"), "corp.example", "plant", Duration.ofDays(30), Clock.systemUTC());
        SiteCa partner = SiteCa.loadOrCreate(dir.resolve("partner"), "partner.example", "p", Duration.ofDays(30),
                Clock.systemUTC());
        String own = TrustBundle.of(site).spiffeJwks(4, Duration.ofMinutes(5));
        String fed = TrustBundle.of(partner).spiffeJwks(9, Duration.ofMinutes(5));
        String body = "{\"v\":1,\"sequence\":7,\"bundle\":" + own + ",\"federated\":{\"partner.example\":" + fed + "}}";
        SiteApiMessages.Bundles b = SiteApiMessages.bundles(bytes(body));
        assertThat(b.sequence()).isEqualTo(7);
        assertThat(b.federated()).containsOnlyKeys("partner.example");

        AtomicInteger changes = new AtomicInteger();
        BundleFollower follower = new BundleFollower(null, site, "corp.example", changes::incrementAndGet);
        assertThat(follower.apply(b)).isTrue();
        assertThat(site.federated()).containsOnlyKeys("partner.example");
        assertThat(site.federated().get("partner.example")).containsExactly(partner.certificate());
        assertThat(site.trustAnchors()).as("never mixed into our own trust").doesNotContain(partner.certificate());
        assertThat(follower.apply(b)).as("same sequence: nothing").isFalse();
        assertThat(changes).hasValue(1);

        refused(body.replace("\"sequence\":7", "\"sequence\":-1"), b2 -> SiteApiMessages.bundles(b2), "sequence");
        refused(body.replace("\"partner.example\"", "\"Not A Domain\""), b2 -> SiteApiMessages.bundles(b2), "federated");
        refused("{\"v\":1,\"sequence\":8,\"bundle\":" + own + ",\"federated\":[]}", b2 -> SiteApiMessages.bundles(b2),
                "federated");
    }

    @Test
    void jwtKeysOfCentralsBundlesReachTheSiteBundleMessageForOurAndFederatedTrustDomains() throws Exception {
        Clock clock = Clock.systemUTC();
        SiteCa site = SiteCa.loadOrCreate(dir.resolve("site"), "corp.example", "plant", Duration.ofDays(30), clock);
        SiteCa partner = SiteCa.loadOrCreate(dir.resolve("partner"), "partner.example", "p", Duration.ofDays(30), clock);
        dev.outpost.appliance.ca.JwtAuthority ours = dev.outpost.appliance.ca.JwtAuthority.loadOrCreate(dir.resolve("site"),
                dev.outpost.appliance.ca.CaKeys.file(), clock);
        dev.outpost.appliance.ca.JwtAuthority otherSite = dev.outpost.appliance.ca.JwtAuthority.loadOrCreate(
                java.nio.file.Files.createDirectories(dir.resolve("other")), dev.outpost.appliance.ca.CaKeys.file(), clock);
        dev.outpost.appliance.ca.JwtAuthority partnerJwt = dev.outpost.appliance.ca.JwtAuthority.loadOrCreate(
                dir.resolve("partner"), dev.outpost.appliance.ca.CaKeys.file(), clock);
        // Central's trust domain bundle carries every site's JWT keys (ours and another site's); the partner's its own.
        java.util.List<java.util.Map<String, Object>> tdKeys = new java.util.ArrayList<>(ours.bundleKeys());
        tdKeys.addAll(otherSite.bundleKeys());
        String own = TrustBundle.of(site).withJwtKeys(tdKeys).spiffeJwks(4, Duration.ofMinutes(5));
        String fed = TrustBundle.of(partner).withJwtKeys(partnerJwt.bundleKeys()).spiffeJwks(9, Duration.ofMinutes(5));
        String body = "{\"v\":1,\"sequence\":7,\"bundle\":" + own + ",\"federated\":{\"partner.example\":" + fed + "}}";
        SiteApiMessages.Bundles b = SiteApiMessages.bundles(bytes(body));

        dev.outpost.appliance.ca.JwtBundles jwt = new dev.outpost.appliance.ca.JwtBundles("corp.example", ours);
        java.util.Map<String, String> before = jwt.bySiteBundle();
        assertThat(before).containsOnlyKeys("corp.example");
        AtomicInteger changes = new AtomicInteger();
        BundleFollower follower = new BundleFollower(null, site, "corp.example", changes::incrementAndGet).withJwt(jwt);
        assertThat(follower.apply(b)).isTrue();
        assertThat(changes).hasValue(1);
        java.util.Map<String, String> after = jwt.bySiteBundle();
        assertThat(after).containsOnlyKeys("corp.example", "partner.example");
        assertThat(dev.outpost.spiffe.SpiffeJwks.parse(after.get("corp.example")).jwtAuthorities())
                .containsOnlyKeys(ours.kid(), otherSite.kid());
        assertThat(dev.outpost.spiffe.SpiffeJwks.parse(after.get("partner.example")).jwtAuthorities())
                .containsOnlyKeys(partnerJwt.kid());
        // The message the appliance publishes takes them (its own limits apply).
        new dev.outpost.mqtt.protocol.SiteBundle(1, "corp.example", 7, TrustBundle.of(site).pem(), java.util.Map.of(),
                after);
    }

    @Test
    void errorBodiesGiveWordsNeverControlCharacters() {
        String e = "{\"v\":1,\"error\":{\"code\":\"FORBIDDEN\",\"message\":\"site revoked\\u001b[31m\"}}";
        assertThat(SiteApiMessages.errorMessage(bytes(e))).isEqualTo("FORBIDDEN: site revoked?[31m");
        assertThat(SiteApiMessages.errorCode(bytes(e))).isEqualTo("FORBIDDEN");
        assertThat(SiteApiMessages.errorCode(bytes("<html>"))).isNull();
        assertThat(new UpstreamException(403, "FORBIDDEN", "x").transientFailure()).isFalse();
        assertThat(new UpstreamException(503, "INTERNAL", "x").transientFailure()).isTrue();
        assertThat(new UpstreamException("down", new java.io.IOException()).transientFailure()).isTrue();
    }

    private interface Parser {
        Object parse(byte[] b) throws UpstreamException;
    }

    private static void refused(String body, String why) {
        refused(body, SiteApiMessages::signedCa, why);
    }

    private static void refused(String body, Parser p, String why) {
        assertThatThrownBy(() -> p.parse(bytes(body))).isInstanceOf(UpstreamException.class).hasMessageContaining(why);
    }

    private static java.util.List<String> names(JsonNode n) {
        java.util.List<String> out = new java.util.ArrayList<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }

    private static String q(String s) throws Exception {
        return JSON.writeValueAsString(s);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
