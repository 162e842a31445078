package dev.outpost.appliance.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import dev.outpost.spiffe.SpiffeJwks;

class TrustBundleTest {
    @TempDir
    Path dir;

    @Test
    void jwksHasTheSpiffeShapeAndRoundTrips() throws Exception {
        SiteCa ca = SiteCa.loadOrCreate(dir, "site1.outpost.test", "a", Duration.ofDays(10), Clock.systemUTC());
        TrustBundle b = TrustBundle.of(ca);
        String json = b.spiffeJwks(7, Duration.ofMinutes(5));
        JsonNode n = new ObjectMapper().readTree(json);
        assertThat(n.get("spiffe_sequence").asLong()).isEqualTo(7);
        assertThat(n.get("spiffe_refresh_hint").asLong()).isEqualTo(300);
        JsonNode k = n.get("keys").get(0);
        assertThat(k.get("use").asText()).isEqualTo("x509-svid");
        assertThat(k.get("kty").asText()).isEqualTo("EC");
        assertThat(k.get("crv").asText()).isEqualTo("P-256");
        assertThat(k.get("x").asText()).doesNotContain("=", "+", "/").hasSize(43);
        assertThat(Base64.getDecoder().decode(k.get("x5c").get(0).asText())).isEqualTo(ca.certificate().getEncoded());

        assertThat(TrustBundle.parseSpiffeJwks(json)).containsExactly(ca.certificate());
        SpiffeJwks.Parsed p = SpiffeJwks.parse(json);
        assertThat(p.sequence()).hasValue(7);
        assertThat(p.refreshHintSeconds()).hasValue(300);
        assertThat(b.pem()).startsWith("-----BEGIN CERTIFICATE-----");
    }

    @Test
    void parserKeepsJwtKeysApartAndRefusesBrokenEntries() throws Exception {
        SiteCa ca = SiteCa.loadOrCreate(dir, "site1.outpost.test", "a", Duration.ofDays(10), Clock.systemUTC());
        String json = TrustBundle.of(ca).spiffeJwks(1, Duration.ofMinutes(5));
        // A jwt-svid key is kept with its kid (federated JWT authorities reach devices), never among the X.509 roots;
        // one without its key fields is refused by name, like a broken x509-svid entry (issue 16; it was skipped).
        JwtAuthority jwt = JwtAuthority.loadOrCreate(dir, CaKeys.file(), Clock.systemUTC());
        String withJwt = TrustBundle.of(ca).withJwtKeys(jwt.bundleKeys()).spiffeJwks(1, Duration.ofMinutes(5));
        assertThat(TrustBundle.parseSpiffeJwks(withJwt)).hasSize(1);
        assertThat(SpiffeJwks.parse(withJwt).jwtAuthorities()).containsOnlyKeys(jwt.kid());
        String brokenJwt = json.replace("{\"keys\":[", "{\"keys\":[{\"use\":\"jwt-svid\",\"kty\":\"EC\",\"kid\":\"k\"},");
        assertThatThrownBy(() -> TrustBundle.parseSpiffeJwks(brokenJwt)).isInstanceOf(GeneralSecurityException.class)
                .hasMessageContaining("keys[0]");

        SiteCa other = SiteCa.loadOrCreate(dir.resolve("o"), "site1.outpost.test", "a", Duration.ofDays(10), Clock.systemUTC());
        String otherX5c = Base64.getEncoder().encodeToString(other.certificate().getEncoded());
        String ownX5c = Base64.getEncoder().encodeToString(ca.certificate().getEncoded());
        assertThatThrownBy(() -> TrustBundle.parseSpiffeJwks(json.replace(ownX5c, otherX5c)))
                .isInstanceOf(GeneralSecurityException.class).hasMessageContaining("do not match the certificate's key");
        assertThatThrownBy(() -> TrustBundle.parseSpiffeJwks(json.replace("\"x5c\":[\"", "\"x5c\":[\"" + ownX5c + "\",\"")))
                .hasMessageContaining("exactly one certificate");
        assertThatThrownBy(() -> TrustBundle.parseSpiffeJwks("[]")).hasMessageContaining("not a JSON object");
        assertThatThrownBy(() -> TrustBundle.parseSpiffeJwks("{\"keys\":{}}")).hasMessageContaining("must be an array");
        assertThatThrownBy(() -> TrustBundle.parseSpiffeJwks("{\"keys\":[]} x")).hasMessageContaining("not JSON");
        assertThatThrownBy(() -> TrustBundle.parseSpiffeJwks("[".repeat(100))).hasMessageContaining("not JSON");
        assertThatThrownBy(() -> TrustBundle.parseSpiffeJwks("{\"keys\":[" + "{},".repeat(300) + "{}]}"))
                .hasMessageContaining("over the 256 limit");
        assertThatThrownBy(() -> TrustBundle.parseSpiffeJwks("{\"keys\":[],\"spiffe_sequence\":-1}"))
                .hasMessageContaining("spiffe_sequence must be a non-negative integer");
        assertThat(TrustBundle.parseSpiffeJwks("{\"keys\":[{\"use\":\"other\"}]}")).isEmpty();
        assertThat(List.of()).isEmpty();
    }

    @Test
    void parserSurvivesMutatedInput() throws Exception {
        SiteCa ca = SiteCa.loadOrCreate(dir, "site1.outpost.test", "a", Duration.ofDays(10), Clock.systemUTC());
        byte[] good = TrustBundle.of(ca).spiffeJwks(3, Duration.ofMinutes(5)).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.util.Random r = new java.util.Random(7);
        for (int i = 0; i < 3000; i++) {
            byte[] b = java.util.Arrays.copyOf(good, 1 + r.nextInt(good.length));
            for (int k = r.nextInt(4); k >= 0; k--) {
                b[r.nextInt(b.length)] = (byte) (0x20 + r.nextInt(0x5f));
            }
            try {
                SpiffeJwks.parse(new String(b, java.nio.charset.StandardCharsets.UTF_8));
            } catch (GeneralSecurityException expected) {
                assertThat(expected.getMessage()).startsWith("bundle: ");
            }
        }
    }
}
