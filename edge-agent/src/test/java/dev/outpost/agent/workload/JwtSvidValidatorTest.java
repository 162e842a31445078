package dev.outpost.agent.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.outpost.testkit.MutableClock;

/** ValidateJWTSVID's checks, one by one, with tokens signed here by JCA (ES256 by the test appliance, RS256 here). */
class JwtSvidValidatorTest {
    final MutableClock clock = new MutableClock();
    final JwtSvidValidator v = new JwtSvidValidator(clock);

    @Test
    void rs256FromAFederatedTrustDomainAndAudienceArrays() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        KeyPair k = g.generateKeyPair();
        RSAPublicKey p = (RSAPublicKey) k.getPublic();
        String jwks = "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"r1\",\"n\":\"" + b64(unsigned(p.getModulus())) + "\",\"e\":\""
                + b64(unsigned(p.getPublicExponent())) + "\"}]}";
        long exp = clock.millis() / 1000 + 60;
        String token = sign(k, "RS256", "SHA256withRSA", "r1",
                "{\"sub\":\"spiffe://partner.test/api\",\"aud\":[\"x\",\"db\"],\"exp\":" + exp + ",\"n\":{\"a\":[1,true]}}");
        JwtSvidValidator.Valid ok = v.validate(token, "db", Map.of("partner.test", jwks));
        assertThat(ok.spiffeId()).isEqualTo("spiffe://partner.test/api");
        assertThat(Responses.struct(ok.claims()).getFieldsOrThrow("n").getStructValue().getFieldsOrThrow("a")
                .getListValue().getValuesCount()).isEqualTo(2);
        // The key must be of the sub's trust domain.
        assertThatThrownBy(() -> v.validate(token, "db", Map.of("site.test", jwks)))
                .hasMessageContaining("no JWT authorities for trust domain partner.test");
    }

    @Test
    void everyCheckSaysWhatFailed() throws Exception {
        TestAppliance a = new TestAppliance(clock);
        a.entries = java.util.List.of(TestAppliance.entry("e", "/w", java.util.List.of("unix:uid:1")));
        String good = a.jwt(new dev.outpost.mqtt.protocol.WorkloadJwtRequest(1, "e", java.util.List.of("db"), null, null)).token();
        Map<String, String> auth = Map.of(TestAppliance.TD, a.jwks());
        assertThat(v.validate(good, "db", auth).spiffeId()).isEqualTo("spiffe://site.test/w");

        String[] p = good.split("\\.");
        String none = b64("{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8)) + "." + p[1] + ".";
        assertThatThrownBy(() -> v.validate(none, "db", auth)).hasMessageContaining("algorithm 'none' not accepted");
        String otherKid = b64("{\"alg\":\"ES256\",\"kid\":\"zz\"}".getBytes(StandardCharsets.UTF_8)) + "." + p[1] + "." + p[2];
        assertThatThrownBy(() -> v.validate(otherKid, "db", auth)).hasMessageContaining("key 'zz' is not a JWT authority");
        String badSub = p[0] + "." + b64("{\"sub\":\"https://x\",\"aud\":\"db\",\"exp\":1}".getBytes(StandardCharsets.UTF_8)) + "." + p[2];
        assertThatThrownBy(() -> v.validate(badSub, "db", auth)).hasMessageContaining("not a SPIFFE ID");
        String swapped = p[0] + "." + b64(("{\"sub\":\"spiffe://site.test/other\",\"aud\":\"db\",\"exp\":"
                + (clock.millis() / 1000 + 60) + "}").getBytes(StandardCharsets.UTF_8)) + "." + p[2];
        assertThatThrownBy(() -> v.validate(swapped, "db", auth)).hasMessageContaining("signature does not verify");
        assertThatThrownBy(() -> v.validate(good, "web", auth)).hasMessageContaining("audience 'web'");
        assertThatThrownBy(() -> v.validate("a.b", "db", auth)).hasMessageContaining("not a compact JWS");
        assertThatThrownBy(() -> v.validate("x".repeat(20000), "db", auth)).hasMessageContaining("over");
        clock.advance(Duration.ofMinutes(5));
        assertThatThrownBy(() -> v.validate(good, "db", auth)).hasMessageContaining("expired");
    }

    private static String sign(KeyPair k, String alg, String jca, String kid, String claims) throws Exception {
        String h = b64(("{\"alg\":\"" + alg + "\",\"kid\":\"" + kid + "\",\"typ\":\"JWT\"}").getBytes(StandardCharsets.UTF_8));
        String c = b64(claims.getBytes(StandardCharsets.UTF_8));
        Signature s = Signature.getInstance(jca);
        s.initSign(k.getPrivate());
        s.update((h + "." + c).getBytes(StandardCharsets.US_ASCII));
        return h + "." + c + "." + b64(s.sign());
    }

    private static byte[] unsigned(BigInteger i) {
        byte[] b = i.toByteArray();
        return b[0] == 0 ? java.util.Arrays.copyOfRange(b, 1, b.length) : b;
    }

    private static String b64(byte[] b) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
