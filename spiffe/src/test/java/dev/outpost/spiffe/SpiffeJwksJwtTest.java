package dev.outpost.spiffe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

/** The jwt-svid keys of SPIFFE bundles: kept by the parser (federated JWT keys must not be dropped), strictly. */
class SpiffeJwksJwtTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static PublicKey ec(String curve) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec(curve));
        return g.generateKeyPair().getPublic();
    }

    private static PublicKey rsa(int bits) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(bits);
        return g.generateKeyPair().getPublic();
    }

    private static String doc(List<Map<String, Object>> keys) throws Exception {
        return JSON.writeValueAsString(Map.of("keys", keys, "spiffe_sequence", 3));
    }

    @Test
    void jwtKeysAreKeptWithTheirKidsAndRoundTrip() throws Exception {
        PublicKey p256 = ec("secp256r1");
        PublicKey p384 = ec("secp384r1");
        PublicKey r = rsa(2048);
        String json = doc(List.of(SpiffeJwks.jwtSvidKey(p256, SpiffeJwks.kidOf(p256)), SpiffeJwks.jwtSvidKey(p384, "spire-kid"),
                SpiffeJwks.jwtSvidKey(r, "rsa-1")));
        SpiffeJwks.Parsed p = SpiffeJwks.parse(json);
        assertThat(p.x509Authorities()).isEmpty();
        assertThat(p.jwtAuthorities()).containsExactly(Map.entry(SpiffeJwks.kidOf(p256), p256), Map.entry("spire-kid", p384),
                Map.entry("rsa-1", r));
        assertThat(SpiffeJwks.parse(p.jwtAuthoritiesJwks()).jwtAuthorities()).isEqualTo(p.jwtAuthorities());
        assertThat(SpiffeJwks.kidOf(p256)).hasSize(22).doesNotContain("=");
    }

    @Test
    void malformedJwtKeysAreRefusedByName() throws Exception {
        PublicKey k = ec("secp256r1");
        Map<String, Object> good = SpiffeJwks.jwtSvidKey(k, "a");
        Map<String, Object> noKid = new LinkedHashMap<>(good);
        noKid.remove("kid");
        assertThatThrownBy(() -> SpiffeJwks.parse(doc(List.of(noKid)))).hasMessageContaining("needs a kid");
        assertThatThrownBy(() -> SpiffeJwks.parse(doc(List.of(good, good)))).hasMessageContaining("appears twice");
        Map<String, Object> offCurve = new LinkedHashMap<>(good);
        offCurve.put("y", good.get("x"));
        assertThatThrownBy(() -> SpiffeJwks.parse(doc(List.of(offCurve)))).hasMessageContaining("keys[0]");
        Map<String, Object> shortX = new LinkedHashMap<>(good);
        shortX.put("x", "AAAA");
        assertThatThrownBy(() -> SpiffeJwks.parse(doc(List.of(shortX)))).hasMessageContaining("32 bytes");
        Map<String, Object> okp = new LinkedHashMap<>(good);
        okp.put("kty", "OKP");
        assertThatThrownBy(() -> SpiffeJwks.parse(doc(List.of(okp)))).hasMessageContaining("not accepted");
        Map<String, Object> p521 = SpiffeJwks.jwtSvidKey(ec("secp521r1"), "b");
        assertThatThrownBy(() -> SpiffeJwks.parse(doc(List.of(p521)))).hasMessageContaining("refused");
        Map<String, Object> weakRsa = SpiffeJwks.jwtSvidKey(rsa(1024), "c");
        assertThatThrownBy(() -> SpiffeJwks.parse(doc(List.of(weakRsa)))).hasMessageContaining("too weak");
        Map<String, Object> longKid = new LinkedHashMap<>(good);
        longKid.put("kid", "k".repeat(SpiffeJwks.MAX_KID + 1));
        assertThatThrownBy(() -> SpiffeJwks.parse(doc(List.of(longKid)))).hasMessageContaining("kid");
    }
}
