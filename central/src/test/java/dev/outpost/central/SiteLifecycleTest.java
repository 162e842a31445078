package dev.outpost.central;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.JsonNode;

import dev.outpost.central.ca.Certs;
import dev.outpost.spiffe.PemIo;
import dev.outpost.spiffe.SpiffeJwks;

/** A site's life at central, on H2 and on PostgreSQL: join by token, CA signed and in the bundle, revoked. */
class SiteLifecycleTest {

    @ParameterizedTest
    @MethodSource("dev.outpost.central.Stores#both")
    void joinSignPublishRevoke(String store, @TempDir Path dir) throws Exception {
        try (Harness h = Stores.start(store, dir)) {
            Sites a = Sites.joinByToken(h, "site-a");
            X509Certificate cred = PemIo.certificates(a.credentialPem(), 4).get(0);
            assertThat(Certs.spiffeId(cred).toString()).isEqualTo("spiffe://" + Harness.TD + "/outpost/site/site-a");
            assertThat(cred.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2");
            assertThat(cred.getBasicConstraints()).isEqualTo(-1);

            SiteClient.Response b0 = a.client().get("/v1/site/bundle", null);
            assertThat(b0.status()).isEqualTo(200);
            long seq0 = b0.body().get("sequence").asLong();

            KeyPair caKey = Csrs.ecKey();
            SiteClient.Response signed = a.signSiteCa(caKey);
            assertThat(signed.status()).as(String.valueOf(signed.body())).isEqualTo(200);
            X509Certificate siteCa = PemIo.certificates(signed.body().get("certificate").asText(), 1).get(0);
            assertThat(siteCa.getPublicKey()).isEqualTo(caKey.getPublic());
            assertThat(siteCa.getBasicConstraints()).isZero();
            assertThat(signed.body().get("chain").asText()).isEmpty();
            assertThat(PemIo.certificates(signed.body().get("trustBundle").asText(), 4)).containsExactlyElementsOf(h.services().ca.roots());
            siteCa.verify(h.services().ca.roots().get(0).getPublicKey());

            SiteClient.Response b1 = a.client().get("/v1/site/bundle", "\"" + seq0 + "\"");
            assertThat(b1.status()).isEqualTo(200);
            assertThat(b1.body().get("sequence").asLong()).isGreaterThan(seq0);
            List<X509Certificate> authorities = SpiffeJwks.parse(b1.body().get("bundle").toString()).x509Authorities();
            assertThat(authorities).contains(siteCa).containsAll(h.services().ca.roots());

            long seq1 = b1.body().get("sequence").asLong();
            assertThat(a.client().get("/v1/site/bundle", "\"" + seq1 + "\"").status()).isEqualTo(304);

            KeyPair next = Csrs.ecKey();
            SiteClient.Response renewed = a.client().post("/v1/site/credential", Map.of("v", 1, "csr", Csrs.plain(next)));
            assertThat(renewed.status()).isEqualTo(200);
            SiteClient renewedClient = SiteClient.withCredential(h, next, renewed.body().get("credential").asText());
            assertThat(renewedClient.get("/v1/site/bundle", null).status()).isEqualTo(200);

            h.services().admin.revoke("site-a", "gateway stolen");
            for (SiteClient c : List.of(a.client(), renewedClient)) {
                SiteClient.Response r = c.post("/v1/site/ca", Map.of("v", 1, "csr", Csrs.plain(Csrs.ecKey())));
                assertThat(r.status()).isEqualTo(403);
                assertThat(r.errorCode()).isEqualTo("FORBIDDEN");
                assertThat(r.errorMessage()).contains("revoked").contains("gateway stolen");
                assertThat(c.get("/v1/site/bundle", null).status()).isEqualTo(403);
            }
            JsonNode after = SiteClient.JSON.readTree(h.services().bundle.json(h.services().bundle.snapshot()));
            assertThat(after.get("spiffe_sequence").asLong()).isGreaterThan(seq1);
            assertThat(SpiffeJwks.parse(after.toString()).x509Authorities()).doesNotContain(siteCa);
        }
    }
}
