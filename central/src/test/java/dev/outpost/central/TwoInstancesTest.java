package dev.outpost.central;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.Base64;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.central.ca.CaException;
import dev.outpost.central.ca.CentralCa;
import dev.outpost.central.config.CentralConfig;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.tpm.credential.CredentialActivator;
import dev.outpost.tpm.credential.CredentialBlob;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.keys.AkTemplate;
import dev.outpost.tpm.keys.AttestationKey;
import dev.outpost.tpm.keys.DeviceId;
import dev.outpost.tpm.keys.EkTemplate;
import dev.outpost.tpm.keys.Endorsement;
import dev.outpost.tpm.keys.TpmKey;

/**
 * Central is stateless over its database: two instances on one PostgreSQL, given the same CA files, serve one
 * site in turn (join on one, the other signs, either answers the bundle at one sequence). An instance with other
 * CA files refuses to start instead of issuing under a second authority.
 */
class TwoInstancesTest {

    @Test
    void twoInstancesServeOneSiteInTurn(@TempDir Path dir) throws Exception {
        String url = Stores.url("postgresql");
        CentralConfig one = Harness.config(dir.resolve("one"), url);
        CentralConfig two = Harness.config(dir.resolve("two"), url);
        try (Harness first = Harness.start(one)) {
            copyCa(dir.resolve("one"), dir.resolve("two"));
            try (Harness second = Harness.start(two)) {
                // The TPM-less path keeps the test short; the join record is the database's either way.
                String token = first.services().admin.add("depot", null, java.time.Duration.ofHours(1)).token();
                KeyPair key = Csrs.ecKey();
                SiteClient.Response joined = first.anonymous.post("/v1/join/token", Map.of("v", 1, "site", "depot", "token", token,
                        "csr", Csrs.plain(key)));
                assertThat(joined.status()).isEqualTo(200);

                // Reused on the other instance: the token is spent there too.
                assertThat(second.anonymous.post("/v1/join/token", Map.of("v", 1, "site", "depot", "token", token,
                        "csr", Csrs.plain(Csrs.ecKey()))).status()).isEqualTo(409);

                SiteClient viaSecond = SiteClient.withCredential(second, key, joined.body().get("credential").asText());
                long before = second.sequence();
                SiteClient.Response signed = viaSecond.post("/v1/site/ca", Map.of("v", 1, "csr", Csrs.plain(Csrs.ecKey())));
                assertThat(signed.status()).isEqualTo(200);

                SiteClient viaFirst = SiteClient.withCredential(first, key, joined.body().get("credential").asText());
                SiteClient.Response b1 = viaFirst.get("/v1/site/bundle", null);
                SiteClient.Response b2 = viaSecond.get("/v1/site/bundle", null);
                assertThat(b1.body().get("sequence").asLong()).isEqualTo(before + 1).isEqualTo(b2.body().get("sequence").asLong());
                assertThat(b1.body().get("bundle")).isEqualTo(b2.body().get("bundle"));

                first.services().admin.revoke("depot", "decommissioned");
                assertThat(viaSecond.get("/v1/site/bundle", null).status()).isEqualTo(403);
            }

            // A third instance that made its own CA is refused by the database's record of the first one's.
            CentralConfig rogue = Harness.config(dir.resolve("rogue"), url);
            CentralCa.create(dir.resolve("rogue").resolve("ca"), Harness.TD, java.time.Clock.systemUTC());
            assertThatThrownBy(() -> Harness.start(rogue)).isInstanceOf(CaException.class)
                    .hasMessageContaining("not the CA recorded in the database");
        }
    }

    @Test
    @ExtendWith(SwtpmExtension.class)
    void tpmJoinBegunOnOneInstanceFinishesOnTheOther(Swtpm swtpm, @TempDir Path dir) throws Exception {
        String url = Stores.url("postgresql");
        try (Harness first = Harness.start(Harness.config(dir.resolve("one"), url))) {
            copyCa(dir.resolve("one"), dir.resolve("two"));
            try (Harness second = Harness.start(Harness.config(dir.resolve("two"), url));
                    Tpm2 tpm = Tpm2.open(swtpm.uri()); TpmKey ek = Endorsement.load(tpm, EkTemplate.RSA_2048)) {
                AttestationKey ak = AttestationKey.create(tpm, ek, AkTemplate.ECC_P256);
                first.services().admin.add("plant", DeviceId.of(ek.pub().publicKey()), null);
                Map<String, Object> begin = new java.util.HashMap<>();
                begin.put("v", 1);
                begin.put("site", "plant");
                begin.put("ekPublic", Base64.getEncoder().encodeToString(ek.pub().encodedSized()));
                begin.put("akPublic", Base64.getEncoder().encodeToString(ak.pub().encodedSized()));
                SiteClient.Response offer = first.anonymous.post("/v1/join/tpm/begin", begin);
                assertThat(offer.status()).isEqualTo(200);
                byte[] secret;
                try (TpmKey loaded = ak.load(tpm, ek)) {
                    secret = CredentialActivator.activate(tpm, loaded, ek, new CredentialBlob(
                            Base64.getDecoder().decode(offer.body().get("credentialBlob").asText()),
                            Base64.getDecoder().decode(offer.body().get("encryptedSecret").asText())));
                }
                Map<String, Object> finish = Map.of("v", 1, "joinId", offer.body().get("joinId").asText(),
                        "secret", Base64.getEncoder().encodeToString(secret), "csr", Csrs.plain(Csrs.ecKey()));
                assertThat(second.anonymous.post("/v1/join/tpm/finish", finish).status()).isEqualTo(200);
                assertThat(first.anonymous.post("/v1/join/tpm/finish", finish).status()).isEqualTo(409);
            }
        }
    }

    @Test
    void aTokenRacedAtBothInstancesJoinsExactlyOnce(@TempDir Path dir) throws Exception {
        String url = Stores.url("postgresql");
        try (Harness first = Harness.start(Harness.config(dir.resolve("one"), url))) {
            copyCa(dir.resolve("one"), dir.resolve("two"));
            try (Harness second = Harness.start(Harness.config(dir.resolve("two"), url))) {
                String token = first.services().admin.add("race", null, java.time.Duration.ofHours(1)).token();
                java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
                try {
                    java.util.List<java.util.concurrent.Future<Integer>> answers = new java.util.ArrayList<>();
                    for (int i = 0; i < 8; i++) {
                        Harness h = i % 2 == 0 ? first : second;
                        answers.add(pool.submit(() -> h.anonymous.post("/v1/join/token", Map.of("v", 1, "site", "race",
                                "token", token, "csr", Csrs.plain(Csrs.ecKey()))).status()));
                    }
                    java.util.List<Integer> statuses = new java.util.ArrayList<>();
                    for (var f : answers) {
                        statuses.add(f.get());
                    }
                    assertThat(statuses).containsOnlyOnce(200).containsOnly(200, 409);
                } finally {
                    pool.shutdownNow();
                }
                assertThat(first.count("SELECT COUNT(*) FROM site_credentials WHERE site = 'race'")).isEqualTo(1);
            }
        }
    }

    private static void copyCa(Path from, Path to) throws Exception {
        Path src = from.resolve("ca");
        Path dst = to.resolve("ca");
        Files.createDirectories(dst);
        for (String f : new String[] {CentralCa.KEY_FILE, CentralCa.CERT_FILE}) {
            Files.copy(src.resolve(f), dst.resolve(f), java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        }
    }
}
