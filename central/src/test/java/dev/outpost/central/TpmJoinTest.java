package dev.outpost.central;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.central.config.CentralConfig;
import dev.outpost.central.store.SiteRecord;
import dev.outpost.testkit.LocalEkCa;
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

/** A gateway joins by its (software) TPM: EK trust, AK checks and credential activation, as a device enrolls. */
@ExtendWith(SwtpmExtension.class)
class TpmJoinTest {
    private static final Base64.Encoder B64 = Base64.getEncoder();

    @Test
    void gatewayJoinsByItsTpmAndAReplayIsRefused(Swtpm swtpm, @TempDir Path dir) throws Exception {
        try (Harness h = Harness.h2(dir); Tpm2 tpm = Tpm2.open(swtpm.uri()); TpmKey ek = Endorsement.load(tpm, EkTemplate.RSA_2048)) {
            AttestationKey ak = AttestationKey.create(tpm, ek, AkTemplate.ECC_P256);
            String ekHash = DeviceId.of(ek.pub().publicKey());
            h.services().admin.add("plant-7", ekHash, null);

            SiteClient.Response begin = begin(h, "plant-7", ek, ak);
            assertThat(begin.status()).as(String.valueOf(begin.body())).isEqualTo(200);
            byte[] secret;
            try (TpmKey loaded = ak.load(tpm, ek)) {
                secret = CredentialActivator.activate(tpm, loaded, ek, new CredentialBlob(
                        Base64.getDecoder().decode(begin.body().get("credentialBlob").asText()),
                        Base64.getDecoder().decode(begin.body().get("encryptedSecret").asText())));
            }
            KeyPair key = Csrs.ecKey();
            Map<String, Object> finish = Map.of("v", 1, "joinId", begin.body().get("joinId").asText(),
                    "secret", B64.encodeToString(secret), "csr", Csrs.plain(key));
            SiteClient.Response done = h.anonymous.post("/v1/join/tpm/finish", finish);
            assertThat(done.status()).as(String.valueOf(done.body())).isEqualTo(200);
            assertThat(done.body().get("site").asText()).isEqualTo("plant-7");
            SiteClient site = SiteClient.withCredential(h, key, done.body().get("credential").asText());
            assertThat(site.get("/v1/site/bundle", null).status()).isEqualTo(200);
            SiteRecord r = h.services().admin.show("plant-7").orElseThrow().site();
            assertThat(r.state()).isEqualTo("active");
            assertThat(r.joinedBy()).isEqualTo("tpm");
            assertThat(r.ekHash()).isEqualTo(ekHash);

            List<Long> before = h.stateFingerprint();
            SiteClient.Response replay = h.anonymous.post("/v1/join/tpm/finish", finish);
            assertThat(replay.status()).isEqualTo(409);
            assertThat(replay.errorCode()).isEqualTo("CONFLICT");
            assertThat(replay.errorMessage()).contains("already used");
            assertThat(h.stateFingerprint()).isEqualTo(before);

            // Joined once: the same TPM may begin again (a site whose answer was lost repeats its join), and only a
            // finish with the first join's key gets a credential (TokenJoinTest has the key rule).
            assertThat(begin(h, "plant-7", ek, ak).status()).isEqualTo(200);
        }
    }

    @Test
    void unknownEkWrongSecretAndWrongJoinMethodAreRefused(Swtpm swtpm, @TempDir Path dir) throws Exception {
        try (Harness h = Harness.h2(dir); Tpm2 tpm = Tpm2.open(swtpm.uri()); TpmKey ek = Endorsement.load(tpm, EkTemplate.RSA_2048)) {
            AttestationKey ak = AttestationKey.create(tpm, ek, AkTemplate.RSA_2048);
            h.services().admin.add("pinned", "ab".repeat(32), null);
            h.services().admin.add("by-token", null, java.time.Duration.ofHours(1));
            h.services().admin.add("open", DeviceId.of(ek.pub().publicKey()), null);
            List<Long> before = h.stateFingerprint();

            SiteClient.Response unknown = begin(h, "pinned", ek, ak);
            assertThat(unknown.status()).isEqualTo(403);
            assertThat(unknown.errorMessage()).contains("not on the allow-list");
            assertThat(h.count("SELECT COUNT(*) FROM tpm_joins")).isZero();

            SiteClient.Response token = begin(h, "by-token", ek, ak);
            assertThat(token.status()).isEqualTo(403);
            assertThat(token.errorMessage()).contains("join by token");

            assertThat(begin(h, "nosuchsite", ek, ak).status()).isEqualTo(403);

            SiteClient.Response ok = begin(h, "open", ek, ak);
            assertThat(ok.status()).isEqualTo(200);
            KeyPair key = Csrs.ecKey();
            Map<String, Object> wrong = Map.of("v", 1, "joinId", ok.body().get("joinId").asText(),
                    "secret", B64.encodeToString(new byte[32]), "csr", Csrs.plain(key));
            SiteClient.Response bad = h.anonymous.post("/v1/join/tpm/finish", wrong);
            assertThat(bad.status()).isEqualTo(403);
            assertThat(bad.errorMessage()).contains("wrong activation secret");
            // The join record is spent: even the right answer now finds it used.
            assertThat(h.anonymous.post("/v1/join/tpm/finish", wrong).status()).isEqualTo(409);
            assertThat(h.stateFingerprint()).isEqualTo(before);
        }
    }

    @Test
    void ekCertificateModeTrustsTheManufacturersChain(Swtpm swtpm, @TempDir Path dir) throws Exception {
        Path ekCa = Files.createDirectories(dir.resolve("ek-ca"));
        try (Tpm2 tpm = Tpm2.open(swtpm.uri()); TpmKey ek = Endorsement.load(tpm, EkTemplate.RSA_2048)) {
            byte[] ekCert = Endorsement.readCertificate(tpm, EkTemplate.RSA_2048.certIndex()).orElseThrow();
            Files.copy(LocalEkCa.get().rootCertificate(), ekCa.resolve("root.pem"));
            Files.copy(LocalEkCa.get().issuerCertificate(), ekCa.resolve("issuer.pem"));
            CentralConfig cfg = Harness.config(dir.resolve("central"), null);
            cfg.join.ekTrust = "cert";
            cfg.join.ekCaDir = ekCa.toString();
            try (Harness h = Harness.start(cfg)) {
                AttestationKey ak = AttestationKey.create(tpm, ek, AkTemplate.ECC_P256);
                h.services().admin.add("factory", null, null);
                SiteClient.Response noCert = begin(h, "factory", ek, ak, null);
                assertThat(noCert.status()).isEqualTo(403);
                assertThat(noCert.errorMessage()).contains("no EK certificate");
                SiteClient.Response ok = begin(h, "factory", ek, ak, ekCert);
                assertThat(ok.status()).as(String.valueOf(ok.body())).isEqualTo(200);
            }
        }
    }

    private static SiteClient.Response begin(Harness h, String site, TpmKey ek, AttestationKey ak) throws Exception {
        return begin(h, site, ek, ak, null);
    }

    private static SiteClient.Response begin(Harness h, String site, TpmKey ek, AttestationKey ak, byte[] ekCert) throws Exception {
        Map<String, Object> body = new java.util.HashMap<>();
        body.put("v", 1);
        body.put("site", site);
        body.put("ekPublic", B64.encodeToString(ek.pub().encodedSized()));
        body.put("ekCertificate", ekCert == null ? null : B64.encodeToString(ekCert));
        body.put("akPublic", B64.encodeToString(ak.pub().encodedSized()));
        return h.anonymous.post("/v1/join/tpm/begin", body);
    }
}
