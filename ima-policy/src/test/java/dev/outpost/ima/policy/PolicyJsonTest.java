package dev.outpost.ima.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

public class PolicyJsonTest {
    public static final String OK = "{\"meta\": {\"version\": 1, \"generator\": 3}, \"release\": 0, "
            + "\"digests\": {\"/bin/sh\": [\"" + "a".repeat(64) + "\"]}, \"excludes\": [\"/tmp/.*\"], "
            + "\"keyrings\": {}, \"ima\": {\"ignored_keyrings\": [], \"log_hash_alg\": \"sha1\", \"dm_policy\": null}, "
            + "\"ima-buf\": {}, \"verification-keys\": \"\"}";

    private static RuntimePolicy read(String s) {
        return new RuntimePolicyJson().read(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void minimalPolicyRoundTrips() {
        RuntimePolicy p = read(OK);
        assertThat(read(new RuntimePolicyJson().writeString(p))).isEqualTo(p);
        assertThat(p.excludes()).containsExactly("/tmp/.*");
    }

    /**
     * Invalid policies as (replace this, by that, message). Shared with the compiled path's test
     * (dev.outpost.ima.verify.CompiledPolicyLoadTest), which must refuse each with the same message.
     */
    public static Stream<Arguments> invalidPolicies() {
        return Stream.of(
                Arguments.of("\"release\": 0, ", null, "$: 'release' is a required property"),
                Arguments.of("\"version\": 1", "\"version\": 2", "$.meta.version: unsupported runtime policy version 2"),
                Arguments.of("\"generator\": 3", "\"generator\": 9", "$.meta.generator: 9 is not in 0..3"),
                Arguments.of("\"release\": 0", "\"release\": -1", "$.release: must be an integer >= 0"),
                Arguments.of("[\"/tmp/.*\"]", "[\"(unclosed\"]", "$.excludes[0]: invalid regular expression"),
                Arguments.of("\"sha1\"", "\"md5\"", "$.ima.log_hash_alg: 'md5' is not one of"),
                Arguments.of("\"dm_policy\": null", "\"dm_policy\": {}", "$.ima.dm_policy: must be null"),
                Arguments.of("[\"aaaa", "[\"AAAA", "$.digests[\"/bin/sh\"][0]: digest must be lowercase hex"),
                Arguments.of("[\"aaaa", "[\"\u00c9aaa", "$.digests[\"/bin/sh\"][0]: digest must be lowercase hex"),
                Arguments.of("[\"aaaa", "[\"\u00e9aaa", "$.digests[\"/bin/sh\"][0]: digest is not hex"),
                Arguments.of("[\"aaaa", "[\"aaa", "$.digests[\"/bin/sh\"][0]: digest is not hex"),
                Arguments.of("[\"aaaa", "[\"aa", "$.digests[\"/bin/sh\"][0]: Invalid digest algorithm"),
                Arguments.of("[\"aaaa", "[\"gaaa", "$.digests[\"/bin/sh\"][0]: digest is not hex"),
                Arguments.of("[\"aaaa", "[\"" + "a".repeat(70), "$.digests[\"/bin/sh\"][0]: Invalid digest algorithm: 130 hex"),
                Arguments.of("[\"aaaa", "[\"sha256:Aaaa", "$.digests[\"/bin/sh\"][0]: digest must be lowercase hex"),
                Arguments.of("[\"aaaa", "[\"md5:aaaa", "$.digests[\"/bin/sh\"][0]: Invalid digest algorithm \"md5\""),
                Arguments.of("[\"aaaa", "[\"sha1:aaaa", "$.digests[\"/bin/sh\"][0]: Invalid digest algorithm: 64 hex"),
                Arguments.of("[\"aaaa", "[5, \"aaaa", "$.digests[\"/bin/sh\"][0]: must be a string"),
                Arguments.of("\"/bin/sh\": [", "\"/bin/sh\": 5, \"x\": [", "$.digests[\"/bin/sh\"]: must be an array"),
                Arguments.of("\"digests\": {", "\"digests\": [], \"d\": {", "$.digests: must be an object"),
                Arguments.of("\"/bin/sh\": [\"aaaa", "\"/bin/sh\": [], \"x\": [\"aaaa", "$.digests[\"/bin/sh\"]: [] is too short"),
                Arguments.of("\"/bin/sh\": [\"aaaa", "\"/bin/sh\": [\"" + "b".repeat(40) + "\"], \"/bin/sh\": [\"aaaa",
                        "$: runtime policy is not valid JSON: Duplicate field '/bin/sh'"),
                Arguments.of("\"keyrings\": {}", "\"keyrings\": {\".ima\": [\"" + "b".repeat(40) + "\"], \".ima\": [\""
                        + "c".repeat(40) + "\"]}", "$: runtime policy is not valid JSON: Duplicate field '.ima'"),
                Arguments.of("\"keyrings\": {}", "\"keyrings\": []", "$.keyrings: must be an object"),
                // Duplicates after the digest maps, where the parser's own detection was paused and resumed.
                Arguments.of("\"dm_policy\": null", "\"dm_policy\": null, \"dm_policy\": null",
                        "$: runtime policy is not valid JSON: Duplicate field 'dm_policy'"),
                Arguments.of("\"ima-buf\": {}", "\"ima-buf\": {}, \"x-note\": [{\"a\": 1, \"a\": 2}]",
                        "$: runtime policy is not valid JSON: Duplicate field 'a'"),
                Arguments.of("\"ima-buf\": {}", "\"ima-buf\": {}, \"x-note\": {\"b\": {\"a\": 1, \"a\": 2}}",
                        "$: runtime policy is not valid JSON: Duplicate field 'a'"),
                Arguments.of("\"ima-buf\": {}", "\"ima-buf\": {}, \"ima-buf\": {}",
                        "$: runtime policy is not valid JSON: Duplicate field 'ima-buf'"),
                Arguments.of("\"verification-keys\": \"\"", "\"verification-keys\": 5", "$.verification-keys: must be a string"),
                Arguments.of("\"verification-keys\": \"\"", "\"verification-keys\": \"{\\\".ima\\\": 5}\"", "$.verification-keys["),
                Arguments.of("\"release\": 0, ", "\"release\": 0, \"release\": 1, ", "not valid JSON: Duplicate field 'release'"),
                Arguments.of("\"release\": 0, ", "\"release\": 0, \"digests\": {}, ", "not valid JSON: Duplicate field 'digests'"));
    }

    @ParameterizedTest
    @MethodSource("invalidPolicies")
    void schemaViolationsNameTheJsonPath(String from, String to, String message) {
        String bad = OK.replace(from, to == null ? "" : to);
        assertThat(bad).isNotEqualTo(OK);
        assertThatThrownBy(() -> read(bad)).isInstanceOf(PolicyException.class).hasMessageContaining(message);
    }

    @Test
    void unknownTopLevelKeysAreIgnoredAsKeylimeSchemaAllows() {
        assertThat(read(OK.replace("\"release\": 0,", "\"release\": 0, \"x-note\": 1,")).digests()).hasSize(1);
    }

    @Test
    void deeplyNestedJsonIsRefusedBeforeItCostsStack() {
        String deep = "{\"meta\": " + "[".repeat(100_000) + "]".repeat(100_000) + "}";
        assertThatThrownBy(() -> read(deep)).isInstanceOf(PolicyException.class).hasMessageContaining("exceeds a limit");
    }

    @Test
    void hugeStringsAndDocumentsAreRefused() throws Exception {
        RuntimePolicyJson small = new RuntimePolicyJson(new PolicyLimits(1 << 20, 16, 1000, 100));
        String longPath = OK.replace("/bin/sh", "/" + "x".repeat(5000));
        assertThatThrownBy(() -> small.read(longPath.getBytes(StandardCharsets.UTF_8)))
                .hasMessageContaining("exceeds a limit");
        byte[] big = new byte[(1 << 20) + 1];
        assertThatThrownBy(() -> small.readBounded(new java.io.ByteArrayInputStream(big)))
                .hasMessageContaining("larger than");
        StringBuilder many = new StringBuilder("{");
        for (int i = 0; i < 200; i++) {
            many.append(i == 0 ? "" : ",").append("\"/f").append(i).append("\": [\"").append("b".repeat(40)).append("\"]");
        }
        String manyPaths = OK.replace("{\"/bin/sh\": [\"" + "a".repeat(64) + "\"]", many.toString());
        assertThatThrownBy(() -> small.read(manyPaths.getBytes(StandardCharsets.UTF_8)))
                .hasMessageContaining("too many entries");
    }

    @Test
    void boundedReadWithASizeHintReadsExactlyTheInputAndKeepsTheLimit() throws Exception {
        RuntimePolicyJson small = new RuntimePolicyJson(new PolicyLimits(1000, 16, 1000, 100));
        byte[] data = new byte[700];
        new java.util.Random(1).nextBytes(data);
        for (long hint : new long[] {-1, 0, 1, 699, 700, 701, 1000, 5000}) {
            assertThat(small.readBounded(new java.io.ByteArrayInputStream(data), hint)).as("hint " + hint).isEqualTo(data);
        }
        byte[] big = new byte[1001];
        for (long hint : new long[] {-1, 10, 1000, 1001}) {
            assertThatThrownBy(() -> small.readBounded(new java.io.ByteArrayInputStream(big), hint)).as("hint " + hint)
                    .hasMessage("$: policy is larger than 1000 bytes");
        }
    }

    @Test
    void dsseEnvelopeSignedWithAFreshKeyVerifiesAndTamperingFails() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
        KeyPair kp = g.generateKeyPair();
        byte[] payload = OK.getBytes(StandardCharsets.UTF_8);
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initSign(kp.getPrivate());
        s.update(DsseEnvelope.pae(DsseEnvelope.KEYLIME_PAYLOAD_TYPE, payload));
        String env = envelope(payload, Base64.getEncoder().encodeToString(s.sign()));
        PolicyLoader loader = PolicyLoader.signedBy(List.of(kp.getPublic()));
        assertThat(loader.load(env.getBytes(StandardCharsets.UTF_8))).isEqualTo(read(OK));

        byte[] other = OK.replace("\"release\": 0", "\"release\": 1").getBytes(StandardCharsets.UTF_8);
        String swapped = envelope(other, Base64.getEncoder().encodeToString(s.sign()));
        assertThatThrownBy(() -> loader.load(swapped.getBytes(StandardCharsets.UTF_8)))
                .hasMessageContaining("failed DSSE signature verification");
    }

    private static String envelope(byte[] payload, String sig) {
        return "{\"payload\": \"" + Base64.getEncoder().encodeToString(payload) + "\", \"payloadType\": \""
                + DsseEnvelope.KEYLIME_PAYLOAD_TYPE + "\", \"signatures\": [{\"keyid\": \"k\", \"sig\": \"" + sig + "\"}]}";
    }

    @Test
    void paeMatchesTheDsseSpecExample() {
        assertThat(new String(DsseEnvelope.pae("http://example.com/HelloWorld",
                "hello world".getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8))
                .isEqualTo("DSSEv1 29 http://example.com/HelloWorld 11 hello world");
    }

    @Test
    void legacyConversionHandlesKeyringsExcludesAndComments() throws Exception {
        String allow = "# comment\n" + "a".repeat(40) + "  /usr/bin/a b\n" + "b".repeat(64) + " %keyring:.ima\n"
                + "c".repeat(40) + "  /usr/bin/a b\n";
        RuntimePolicy p = LegacyAllowlist.convert(new StringReader(allow), new StringReader("# x\n\n^/tmp/\n/var/log/.*\n"),
                PolicyLimits.DEFAULT);
        assertThat(p.digests()).isEqualTo(Map.of("/usr/bin/a b", List.of("a".repeat(40), "c".repeat(40))));
        assertThat(p.keyrings()).isEqualTo(Map.of(".ima", List.of("b".repeat(64))));
        assertThat(p.excludes()).containsExactly("^/tmp/", "/var/log/.*");
        assertThatThrownBy(() -> LegacyAllowlist.convert(new StringReader("zz /x\n"), null, PolicyLimits.DEFAULT))
                .hasMessageContaining("allowlist line 1");
        assertThatThrownBy(() -> LegacyAllowlist.readExcludes(new StringReader("ok\n[bad\n")))
                .hasMessageContaining("exclude list line 2");
    }
}
