package dev.outpost.ima.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.StringReader;
import java.nio.file.Files;
import java.security.PublicKey;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.outpost.ima.TestData;

class RealPolicyTest {
    private static final String DIR = "policies/keylime/";

    private static List<PublicKey> key() throws Exception {
        return PublicKeys.fromPem(Files.readAllBytes(TestData.file(DIR + "runtime-policy-pubkey.pub")));
    }

    @Test
    void plainPolicyLoads() throws Exception {
        RuntimePolicy p = PolicyLoader.unsigned().load(TestData.file(DIR + "runtime-policy-test.json"));
        assertThat(p.version()).isEqualTo(1);
        assertThat(p.generator()).isEqualTo(2);
        assertThat(p.digests()).hasSize(21);
        assertThat(p.keyrings()).containsOnlyKeys(".ima");
        assertThat(p.digests().get("boot_aggregate")).containsExactly(
                "sha256:4309217e9709def327c3409407f4d52907aeba46ef1b4f46529fd095f2ef9fb2");
    }

    @Test
    void signedPolicyVerifiesAndEqualsThePlainOne() throws Exception {
        RuntimePolicy signed = PolicyLoader.signedBy(key()).load(TestData.file(DIR + "runtime-policy-test-signed.json"));
        RuntimePolicy plain = PolicyLoader.unsigned().load(TestData.file(DIR + "runtime-policy-test.json"));
        assertThat(signed).isEqualTo(plain);
    }

    @Test
    void badSignatureIsRejected() throws Exception {
        assertThatThrownBy(() -> PolicyLoader.signedBy(key())
                .load(TestData.file(DIR + "runtime-policy-test-signed-bad.json")))
                .isInstanceOf(PolicyException.class).hasMessageContaining("$.signatures[0].sig: not strict base64");
    }

    @Test
    void envelopeWithoutKeyAndPlainPolicyWithKeyAreRefused() throws Exception {
        assertThatThrownBy(() -> PolicyLoader.unsigned().load(TestData.file(DIR + "runtime-policy-test-signed.json")))
                .hasMessageContaining("no signing key");
        assertThatThrownBy(() -> PolicyLoader.signedBy(key()).load(TestData.file(DIR + "runtime-policy-test.json")))
                .hasMessageContaining("not signed");
    }

    @Test
    void signRuntimePolicyFixtures() throws Exception {
        String d = DIR + "sign-runtime-policy/";
        assertThat(PolicyLoader.unsigned().load(TestData.file(d + "runtime-policy.json")).digests()).hasSize(7);
        assertThat(PolicyLoader.unsigned().load(TestData.file(d + "runtime-policy-empty.json")).digests()).isEmpty();
        assertThatThrownBy(() -> PolicyLoader.unsigned().load(TestData.file(d + "runtime-policy-bogus.json")))
                .isInstanceOf(PolicyException.class).hasMessageContaining("not valid JSON");
    }

    @ParameterizedTest
    @ValueSource(strings = {"sha1", "sha256", "sha384", "sha512", "sm3_256"})
    void basePoliciesPerAlgorithmLoad(String alg) throws Exception {
        RuntimePolicy p = PolicyLoader.unsigned().load(TestData.file(DIR + "create-runtime-policy/policy-" + alg));
        assertThat(p.generator()).isEqualTo(3);
        assertThat(p.digests()).hasSize(1);
    }

    @Test
    void unknownAlgorithmFilesAreRejected() throws Exception {
        assertThatThrownBy(() -> PolicyLoader.unsigned().load(TestData.file(DIR + "create-runtime-policy/policy-unknown")))
                .hasMessageContaining("$.digests[\"/").hasMessageContaining("[0]: Invalid digest algorithm");
        String allow = Files.readString(TestData.file(DIR + "create-runtime-policy/allowlist-unknown"));
        assertThatThrownBy(() -> LegacyAllowlist.convert(new StringReader(allow), null, PolicyLimits.DEFAULT))
                .hasMessageContaining("Invalid digest algorithm").hasMessageContaining("found in the allowlist");
    }

    @ParameterizedTest
    @ValueSource(strings = {"sha1", "sha256", "sha384", "sha512", "sm3_256"})
    void allowlistsPerAlgorithmConvert(String alg) throws Exception {
        String allow = Files.readString(TestData.file(DIR + "create-runtime-policy/allowlist-" + alg));
        RuntimePolicy p = LegacyAllowlist.convert(new StringReader(allow), null, PolicyLimits.DEFAULT);
        assertThat(p.digests()).hasSize(1);
        assertThat(new RuntimePolicyJson().read(new RuntimePolicyJson().write(p))).isEqualTo(p);
    }

    @Test
    void legacyAllowlistConvertsToTheSameDigestsAsThePolicy() throws Exception {
        String allow = Files.readString(TestData.file(DIR + "ima-allowlist-short.txt"));
        RuntimePolicy converted = LegacyAllowlist.convert(new StringReader(allow), null, PolicyLimits.DEFAULT);
        RuntimePolicy policy = PolicyLoader.unsigned().load(TestData.file(DIR + "runtime-policy-test.json"));
        assertThat(converted.digests()).isEqualTo(policy.digests());
        assertThat(converted.keyrings()).isEqualTo(policy.keyrings());
        assertThat(converted.generator()).isEqualTo(3);
    }
}
