package dev.outpost.ima.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.Signature;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.outpost.ima.list.Hex;
import dev.outpost.ima.policy.DsseEnvelope;
import dev.outpost.ima.policy.ImaSettings;
import dev.outpost.ima.policy.PolicyException;
import dev.outpost.ima.policy.PolicyJsonTest;
import dev.outpost.ima.policy.PolicyLimits;
import dev.outpost.ima.policy.PolicyLoader;
import dev.outpost.ima.policy.RuntimePolicy;
import dev.outpost.ima.policy.RuntimePolicyJson;
import dev.outpost.tpm.HashAlg;

/** The one-pass compile (JSON tokens → index) against the model path it must agree with in everything. */
class CompiledPolicyLoadTest {

    @ParameterizedTest
    @MethodSource("dev.outpost.ima.policy.PolicyJsonTest#invalidPolicies")
    void refusesEveryInvalidPolicyWithTheModelsMessage(String from, String to, String message) {
        byte[] bad = PolicyJsonTest.OK.replace(from, to == null ? "" : to).getBytes(StandardCharsets.UTF_8);
        Throwable model = catchThrowable(() -> PolicyLoader.unsigned().load(bad));
        Throwable compiled = catchThrowable(() -> CompiledPolicy.load(PolicyLoader.unsigned(), bad));
        assertThat(model).isInstanceOf(PolicyException.class).hasMessageContaining(message);
        assertThat(compiled).isInstanceOf(PolicyException.class).hasMessage(model.getMessage());
    }

    @Test
    void entryLimitIsTheSameOnBothPaths() {
        PolicyLoader small = new PolicyLoader(new PolicyLimits(1 << 20, 16, 1000, 100), List.of());
        byte[] json = json(generated(new Random(7), 60));
        Throwable model = catchThrowable(() -> small.load(json));
        Throwable compiled = catchThrowable(() -> CompiledPolicy.load(small, json));
        assertThat(model).hasMessage("$.digests: policy has too many entries");
        assertThat(compiled).hasMessage(model.getMessage());
    }

    @Test
    void generatedPolicyCompiledBothWaysAnswersEveryLookupAlike() {
        Random rnd = new Random(42);
        RuntimePolicy p = generated(rnd, 5000);
        byte[] json = json(p);
        CompiledPolicy viaModel = new CompiledPolicy(PolicyLoader.unsigned().load(json));
        CompiledPolicy direct = CompiledPolicy.load(PolicyLoader.unsigned(), json);
        assertThat(direct.indexBytes()).isEqualTo(viaModel.indexBytes());
        int matches = 0;
        for (Map.Entry<String, List<String>> e : p.digests().entrySet()) {
            for (String d : e.getValue()) {
                int colon = d.indexOf(':');
                byte[] v = Hex.decodeOrNull(d.substring(colon + 1));
                for (HashAlg alg : HashAlg.values()) {
                    if (alg.digestSize() != v.length) {
                        continue;
                    }
                    CompiledPolicy.Lookup l = direct.lookupFile(e.getKey(), alg, v);
                    assertThat(l).isEqualTo(viaModel.lookupFile(e.getKey(), alg, v));
                    matches += l == CompiledPolicy.Lookup.MATCH ? 1 : 0;
                }
                byte[] other = v.clone();
                other[rnd.nextInt(other.length)] ^= 1;
                assertThat(direct.lookupFile(e.getKey(), HashAlg.SHA256, other))
                        .isEqualTo(viaModel.lookupFile(e.getKey(), HashAlg.SHA256, other));
            }
            String miss = e.getKey() + "x";
            assertThat(direct.lookupFile(miss, HashAlg.SHA256, new byte[32])).isEqualTo(CompiledPolicy.Lookup.NOT_LISTED)
                    .isEqualTo(viaModel.lookupFile(miss, HashAlg.SHA256, new byte[32]));
        }
        assertThat(matches).isGreaterThan(p.digests().size());
        assertThat(direct.excluded("/tmp/a")).isTrue();
        assertThat(direct.keyringDigests(".ima")).hasSize(1);
    }

    @Test
    void signedPolicyCompilesThroughTheSameLoaderChecks() throws Exception {
        KeyPair kp = Fixtures.ec();
        byte[] payload = json(generated(new Random(3), 50));
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initSign(kp.getPrivate());
        s.update(DsseEnvelope.pae(DsseEnvelope.KEYLIME_PAYLOAD_TYPE, payload));
        String sig = Base64.getEncoder().encodeToString(s.sign());
        PolicyLoader loader = PolicyLoader.signedBy(List.of(kp.getPublic()));
        CompiledPolicy c = CompiledPolicy.load(loader, envelope(payload, sig));
        assertThat(c.indexBytes()).isEqualTo(new CompiledPolicy(loader.load(envelope(payload, sig))).indexBytes());

        byte[] other = json(generated(new Random(4), 50));
        Throwable model = catchThrowable(() -> loader.load(envelope(other, sig)));
        assertThat(catchThrowable(() -> CompiledPolicy.load(loader, envelope(other, sig))))
                .isInstanceOf(PolicyException.class).hasMessage(model.getMessage())
                .hasMessageContaining("failed DSSE signature verification");
        assertThat(catchThrowable(() -> CompiledPolicy.load(loader, payload))).hasMessage("$: Runtime policy is not signed");
        assertThat(catchThrowable(() -> CompiledPolicy.load(PolicyLoader.unsigned(), envelope(payload, sig))))
                .hasMessageContaining("no signing key was given");
    }

    private static byte[] envelope(byte[] payload, String sig) {
        return ("{\"payload\": \"" + Base64.getEncoder().encodeToString(payload) + "\", \"payloadType\": \""
                + DsseEnvelope.KEYLIME_PAYLOAD_TYPE + "\", \"signatures\": [{\"keyid\": \"k\", \"sig\": \"" + sig
                + "\"}]}").getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] json(RuntimePolicy p) {
        return new RuntimePolicyJson().write(p);
    }

    /** Paths with shared hash codes, non-ASCII names, 1-3 digests each, some prefixed with their algorithm. */
    static RuntimePolicy generated(Random rnd, int paths) {
        Map<String, List<String>> digests = new LinkedHashMap<>();
        String[] names = {"Aa", "BB", "naïve", "文件", "x"};
        HashAlg[] algs = {HashAlg.SHA1, HashAlg.SHA256, HashAlg.SHA384, HashAlg.SHA512, HashAlg.SM3_256};
        for (int i = 0; i < paths; i++) {
            String path = "/usr/" + names[rnd.nextInt(names.length)] + "/" + i + names[rnd.nextInt(names.length)];
            List<String> ds = new ArrayList<>();
            for (int k = rnd.nextInt(3); k >= 0; k--) {
                HashAlg a = algs[rnd.nextInt(algs.length)];
                byte[] v = new byte[a.digestSize()];
                rnd.nextBytes(v);
                String prefix = a == HashAlg.SM3_256 || rnd.nextInt(4) == 0 ? (a == HashAlg.SM3_256 ? "sm3_256" : a.tpmName()) + ":" : "";
                ds.add(prefix + Hex.encode(v));
            }
            digests.put(path, ds);
        }
        return new RuntimePolicy(1, 2, null, 0, digests, List.of("/tmp/.*"), Map.of(".ima", List.of("ab".repeat(32))),
                ImaSettings.DEFAULT, Map.of(), "");
    }
}
