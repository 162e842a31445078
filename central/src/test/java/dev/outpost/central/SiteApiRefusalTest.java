package dev.outpost.central;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.bouncycastle.asn1.x509.GeneralName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.spiffe.PemIo;
import dev.outpost.testkit.ProcessRunner;

/** Bad input at every surface of the site API: a clear error with its code, and nothing changed. */
class SiteApiRefusalTest {
    @TempDir
    static Path dir;
    static Harness h;
    static Sites a;
    static Sites b;

    @BeforeAll
    static void start() throws Exception {
        h = Harness.h2(dir.resolve("central"));
        a = Sites.joinByToken(h, "site-a");
        b = Sites.joinByToken(h, "site-b");
    }

    @AfterAll
    static void stop() {
        h.close();
    }

    @Test
    void csrsThatAskForAnythingAreRefused() throws Exception {
        List<Long> before = h.stateFingerprint();
        KeyPair k = Csrs.ecKey();
        SiteClient.Response extraSan = a.client().post("/v1/site/ca", Map.of("v", 1, "csr",
                Csrs.withSans(k, new GeneralName(GeneralName.dNSName, "evil.example"))));
        assertThat(extraSan.status()).isEqualTo(400);
        assertThat(extraSan.errorMessage()).contains("subject alternative name").contains("evil.example");

        SiteClient.Response otherSpiffe = a.client().post("/v1/site/credential", Map.of("v", 1, "csr",
                Csrs.withSans(k, new GeneralName(GeneralName.uniformResourceIdentifier, "spiffe://" + Harness.TD + "/outpost/site/site-b"))));
        assertThat(otherSpiffe.status()).isEqualTo(400);

        SiteClient.Response ca = a.client().post("/v1/site/credential", Map.of("v", 1, "csr", Csrs.askingForCa(k)));
        assertThat(ca.status()).isEqualTo(400);
        assertThat(ca.errorMessage()).contains("basicConstraints");
        assertThat(a.client().post("/v1/site/ca", Map.of("v", 1, "csr", Csrs.askingForCa(k))).status()).isEqualTo(400);

        SiteClient.Response garbage = a.client().post("/v1/site/ca", Map.of("v", 1, "csr", "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"));
        assertThat(garbage.status()).isEqualTo(400);
        assertThat(h.stateFingerprint()).isEqualTo(before);

        // Repeating exactly the SAN central assigns is not asking for anything.
        SiteClient.Response same = a.client().post("/v1/site/ca", Map.of("v", 1, "csr",
                Csrs.withSans(k, new GeneralName(GeneralName.uniformResourceIdentifier, "spiffe://" + Harness.TD))));
        assertThat(same.status()).isEqualTo(200);
    }

    @Test
    void envelopeLimits() throws Exception {
        List<Long> before = h.stateFingerprint();
        String csr = Csrs.plain(Csrs.ecKey());
        byte[] ok = SiteClient.JSON.writeValueAsBytes(Map.of("v", 1, "csr", csr));

        SiteClient.Response ct = a.client().post("/v1/site/ca", ok, "text/plain");
        assertThat(ct.status()).isEqualTo(415);
        assertThat(ct.errorCode()).isEqualTo("UNSUPPORTED_MEDIA_TYPE");
        assertThat(a.client().post("/v1/site/ca", ok, null).status()).isEqualTo(415);

        byte[] big = ("{\"v\":1,\"csr\":\"" + "A".repeat(70 * 1024) + "\"}").getBytes(StandardCharsets.US_ASCII);
        SiteClient.Response tooLarge = a.client().post("/v1/site/ca", big, "application/json");
        assertThat(tooLarge.status()).isEqualTo(413);
        assertThat(tooLarge.errorCode()).isEqualTo("TOO_LARGE");
        assertThat(h.anonymous.post("/v1/join/token", big, "application/json").status()).isEqualTo(413);
        SiteClient.Response chunked = a.client().postChunked("/v1/site/ca", big);
        assertThat(chunked.status()).isEqualTo(413);
        assertThat(chunked.errorCode()).isEqualTo("TOO_LARGE");

        SiteClient.Response unknown = a.client().post("/v1/site/ca", Map.of("v", 1, "csr", csr, "ca", true));
        assertThat(unknown.status()).isEqualTo(400);
        assertThat(unknown.errorMessage()).contains("unknown field \"ca\"");

        SiteClient.Response v2 = a.client().post("/v1/site/ca", Map.of("v", 2, "csr", csr));
        assertThat(v2.status()).isEqualTo(400);
        assertThat(v2.errorMessage()).contains("\"v\"");

        SiteClient.Response notJson = a.client().post("/v1/site/ca", "{\"v\":1,".getBytes(StandardCharsets.US_ASCII), "application/json");
        assertThat(notJson.status()).isEqualTo(400);
        assertThat(notJson.body().path("error").path("message").asText()).doesNotContain("Exception").doesNotContain("\tat ");

        SiteClient.Response dup = a.client().post("/v1/site/ca", ("{\"v\":1,\"csr\":\"x\",\"csr\":\"y\"}").getBytes(StandardCharsets.US_ASCII),
                "application/json");
        assertThat(dup.status()).isEqualTo(400);

        assertThat(h.anonymous.post("/v1/join/token", Map.of("v", 1, "site", "../etc", "token", "x", "csr", csr)).status()).isEqualTo(400);
        assertThat(a.client().get("/v1/nothing", null).status()).isEqualTo(404);
        assertThat(h.stateFingerprint()).isEqualTo(before);
    }

    @Test
    void siteEndpointsNeedTheSitesOwnCredential() throws Exception {
        List<Long> before = h.stateFingerprint();
        SiteClient.Response none = h.anonymous.post("/v1/site/ca", Map.of("v", 1, "csr", Csrs.plain(Csrs.ecKey())));
        assertThat(none.status()).isEqualTo(401);
        assertThat(none.errorCode()).isEqualTo("UNAUTHENTICATED");

        // Signed by central's own CA for site-b's ID, but never issued to site-b (not in the registry): refused.
        KeyPair k = Csrs.ecKey();
        X509Certificate forged = h.services().ca.issueSiteCredential("site-b", k.getPublic(), Duration.ofDays(1));
        SiteClient.Response unrecorded = SiteClient.withCredential(h, k, PemIo.encode(List.of(forged))).get("/v1/site/bundle", null);
        assertThat(unrecorded.status()).isEqualTo(401);
        assertThat(unrecorded.errorMessage()).contains("not issued");

        // A credential from another central (another CA) claiming site-a never gets through.
        try (Harness other = Harness.h2(dir.resolve("other"))) {
            X509Certificate foreign = other.services().ca.issueSiteCredential("site-a", k.getPublic(), Duration.ofDays(1));
            SiteClient c = SiteClient.withCredential(h, k, PemIo.encode(List.of(foreign)));
            assertThatThrownBy(() -> {
                SiteClient.Response r = c.get("/v1/site/bundle", null);
                // If TLS let it through, the API must still refuse it.
                assertThat(r.status()).isEqualTo(401);
                throw new java.io.IOException("refused by the API");
            }).isInstanceOf(java.io.IOException.class);
        }

        // site-a's credential acts only on site-a: the site CA it gets signed is recorded under site-a.
        long bCas = h.count("SELECT COUNT(*) FROM site_cas WHERE site = 'site-b'");
        assertThat(a.signSiteCa(Csrs.ecKey()).status()).isEqualTo(200);
        assertThat(h.count("SELECT COUNT(*) FROM site_cas WHERE site = 'site-b'")).isEqualTo(bCas);
        assertThat(before.get(3) + 1).isEqualTo(h.count("SELECT COUNT(*) FROM site_cas"));
    }

    @Test
    void siteCaPassesOpensslChecks() throws Exception {
        SiteClient.Response r = b.signSiteCa(Csrs.ecKey());
        assertThat(r.status()).isEqualTo(200);
        Path root = Harness.rootPem(h, dir);
        Path cert = dir.resolve("site-b-ca.pem");
        Files.writeString(cert, r.body().get("certificate").asText());
        ProcessRunner.Result verify = ProcessRunner.run(List.of("openssl", "verify", "-CAfile", root.toString(), cert.toString()),
                dir, Map.of(), 30).assertSuccess();
        assertThat(verify.stdout()).contains(": OK");
        String text = ProcessRunner.run(List.of("openssl", "x509", "-in", cert.toString(), "-noout", "-text"), dir, Map.of(), 30)
                .assertSuccess().stdout();
        assertThat(text).contains("CA:TRUE, pathlen:0").contains("Certificate Sign, CRL Sign")
                .contains("URI:spiffe://" + Harness.TD).contains("CN = Outpost site CA site-b");
        X509Certificate c = PemIo.certificates(r.body().get("certificate").asText(), 1).get(0);
        assertThat(c.getNotAfter().toInstant()).isBeforeOrEqualTo(h.clock.instant().plus(Duration.ofDays(90)));
    }

    @Test
    void requestedLifetimeIsCappedAndBounded() throws Exception {
        SiteClient.Response shortTtl = a.client().post("/v1/site/ca", Map.of("v", 1, "csr", Csrs.plain(Csrs.ecKey()), "ttlSeconds", 86400));
        assertThat(shortTtl.status()).isEqualTo(200);
        X509Certificate c = PemIo.certificates(shortTtl.body().get("certificate").asText(), 1).get(0);
        assertThat(Duration.between(c.getNotBefore().toInstant(), c.getNotAfter().toInstant())).isLessThan(Duration.ofDays(2));
        SiteClient.Response longTtl = a.client().post("/v1/site/ca", Map.of("v", 1, "csr", Csrs.plain(Csrs.ecKey()), "ttlSeconds",
                Duration.ofDays(3000).toSeconds()));
        X509Certificate capped = PemIo.certificates(longTtl.body().get("certificate").asText(), 1).get(0);
        assertThat(Duration.between(capped.getNotBefore().toInstant(), capped.getNotAfter().toInstant())).isLessThan(Duration.ofDays(91));
        assertThat(a.client().post("/v1/site/ca", Map.of("v", 1, "csr", Csrs.plain(Csrs.ecKey()), "ttlSeconds", 5)).status()).isEqualTo(400);
    }

}
