package dev.outpost.central;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.KeyPair;
import java.time.Duration;
import java.util.Map;

/** A joined site in a test: its credential key and chain, and a client that presents them. */
public record Sites(String name, KeyPair key, String credentialPem, SiteClient client) {

    /** Adds a token site through the registry and joins it over the API. */
    public static Sites joinByToken(Harness h, String name) throws Exception {
        String token = h.services().admin.add(name, null, Duration.ofHours(24)).token();
        KeyPair kp = Csrs.ecKey();
        SiteClient.Response r = h.anonymous.post("/v1/join/token", Map.of("v", 1, "site", name, "token", token, "csr", Csrs.plain(kp)));
        assertThat(r.status()).as(String.valueOf(r.body())).isEqualTo(200);
        String cred = r.body().get("credential").asText();
        return new Sites(name, kp, cred, SiteClient.withCredential(h, kp, cred));
    }

    public SiteClient.Response signSiteCa(KeyPair caKey) throws Exception {
        return client.post("/v1/site/ca", Map.of("v", 1, "csr", Csrs.plain(caKey)));
    }
}
