package dev.outpost.ima.verify;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.outpost.ima.policy.PolicyDigest;
import dev.outpost.tpm.HashAlg;

class PathDigestIndexTest {
    private static final byte[] D1 = HashAlg.SHA256.digest("1".getBytes());
    private static final byte[] D2 = HashAlg.SHA256.digest("2".getBytes());

    @Test
    void collidingHashesNonAsciiPathsAndPrefixedAlgorithms() {
        Map<String, PolicyDigest[]> m = new LinkedHashMap<>();
        // "Aa" and "BB" share String.hashCode; only the full comparison tells them apart.
        m.put("/Aa", new PolicyDigest[] {new PolicyDigest(null, D1)});
        m.put("/BB", new PolicyDigest[] {new PolicyDigest(HashAlg.SM3_256, D2)});
        m.put("/usr/share/naïve/文件", new PolicyDigest[] {new PolicyDigest(null, D2), new PolicyDigest(null, D1)});
        for (int i = 0; i < 1000; i++) {
            m.put("/f" + i, new PolicyDigest[] {new PolicyDigest(null, D1)});
        }
        PathDigestIndex ix = new PathDigestIndex(m);
        assertThat(ix.accepts(ix.find("/Aa"), HashAlg.SHA256, D1)).isTrue();
        assertThat(ix.accepts(ix.find("/Aa"), HashAlg.SHA256, D2)).isFalse();
        assertThat(ix.accepts(ix.find("/BB"), HashAlg.SHA256, D2)).isFalse();
        assertThat(ix.accepts(ix.find("/BB"), HashAlg.SM3_256, D2)).isTrue();
        assertThat(ix.accepts(ix.find("/usr/share/naïve/文件"), HashAlg.SHA256, D1)).isTrue();
        assertThat(ix.find("/usr/share/naive/文件")).isEqualTo(PathDigestIndex.NOT_LISTED);
        assertThat(ix.find("/f999")).isNotEqualTo(PathDigestIndex.NOT_LISTED);
        assertThat(ix.find("/f1000")).isEqualTo(PathDigestIndex.NOT_LISTED);
        assertThat(ix.find("")).isEqualTo(PathDigestIndex.NOT_LISTED);
        assertThat(new PathDigestIndex(Map.of()).find("/x")).isEqualTo(PathDigestIndex.NOT_LISTED);
    }
}
