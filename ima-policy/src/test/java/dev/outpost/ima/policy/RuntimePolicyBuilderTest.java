package dev.outpost.ima.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.outpost.ima.TestData;
import dev.outpost.ima.list.ImaEntryReader;
import dev.outpost.ima.list.ImaLimits;
import dev.outpost.ima.list.ImaListWriter;
import dev.outpost.ima.list.ImaLists;
import dev.outpost.tpm.HashAlg;

class RuntimePolicyBuilderTest {

    private static RuntimePolicy fromList(String file, HashAlg alg) throws Exception {
        RuntimePolicyBuilder b = new RuntimePolicyBuilder(List.of(), alg);
        try (InputStream in = Files.newInputStream(TestData.file(file));
                ImaEntryReader r = ImaLists.open(in, ImaLimits.DEFAULT, 0)) {
            b.addImaList(r);
        }
        return b.build();
    }

    @ParameterizedTest
    @CsvSource({"sha1, 40", "sha256, 64", "sha384, 96", "sha512, 128", "sm3_256, 64"})
    void createRuntimePolicyListsGiveTheirAlgorithm(String alg, int hexLen) throws Exception {
        RuntimePolicy p = fromList("ima/keylime/create-runtime-policy/ima-log-" + alg, null);
        assertThat(p.digests().get("/data")).singleElement().satisfies(d -> assertThat(d).hasSize(hexLen));
        assertThat(new RuntimePolicyJson().read(new RuntimePolicyJson().write(p))).isEqualTo(p);
    }

    @Test
    void unknownAlgorithmAndMixedAlgorithmsAreRejected() {
        assertThatThrownBy(() -> fromList("ima/keylime/create-runtime-policy/ima-log-unknown", null))
                .hasMessageContaining("invalid digest algorithm");
        assertThatThrownBy(() -> fromList("ima/keylime/create-runtime-policy/ima-log-sha256", HashAlg.SHA1))
                .hasMessageContaining("does not match the previously set 'sha1' algorithm");
    }

    @Test
    void realListBecomesAPolicyThatKeepsEveryPathAndSkipsExcludes() throws Exception {
        RuntimePolicy p = fromList("ima/rust-keylime/ascii_runtime_measurements", null);
        assertThat(p.digests()).containsKey("boot_aggregate");
        StringWriter w = new StringWriter();
        ImaListWriter.writeAscii(w, ImaListWriter.imaNg(0, HashAlg.SHA256, new byte[32], "/tmp/x"));
        ImaListWriter.writeAscii(w, ImaListWriter.imaNg(1, HashAlg.SHA256, new byte[32], "/usr/x"));
        RuntimePolicyBuilder b = new RuntimePolicyBuilder(List.of("/tmp/"), null);
        b.addImaList(ImaLists.open(new ByteArrayInputStream(w.toString().getBytes(StandardCharsets.UTF_8)),
                ImaLimits.DEFAULT, 0));
        assertThat(b.build().digests()).containsOnlyKeys("/usr/x");
        assertThat(b.build().excludes()).containsExactly("/tmp/");
    }
}
