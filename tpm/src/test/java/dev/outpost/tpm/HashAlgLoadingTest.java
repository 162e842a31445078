package dev.outpost.tpm;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URL;
import java.net.URLClassLoader;

import org.bouncycastle.crypto.digests.SM3Digest;
import org.junit.jupiter.api.Test;

/**
 * Bouncy Castle's jar is signed: the JVM checks its signature when the first class of it loads (~0.17 s), which a
 * command-line run hashing only with SHA-1/SHA-256 should not pay. Loads HashAlg in a class loader of its own and
 * asks which classes it loaded.
 */
class HashAlgLoadingTest {

    static final class Probe extends URLClassLoader {
        Probe(URL... urls) {
            super(urls, ClassLoader.getPlatformClassLoader());
        }

        boolean loaded(String name) {
            return findLoadedClass(name) != null;
        }
    }

    @Test
    void bouncyCastleLoadsOnlyForSm3() throws Exception {
        URL tpm = HashAlg.class.getProtectionDomain().getCodeSource().getLocation();
        URL bc = SM3Digest.class.getProtectionDomain().getCodeSource().getLocation();
        try (Probe p = new Probe(tpm, bc)) {
            Class<?> alg = p.loadClass(HashAlg.class.getName());
            Object sha256 = alg.getMethod("valueOf", String.class).invoke(null, "SHA256");
            byte[] d = (byte[]) alg.getMethod("digest", byte[][].class).invoke(sha256, (Object) new byte[][] {{1, 2}});
            assertThat(d).hasSize(32);
            assertThat(p.loaded("org.bouncycastle.crypto.Digest")).as("Bouncy Castle loaded for SHA-256").isFalse();

            Object sm3 = alg.getMethod("valueOf", String.class).invoke(null, "SM3_256");
            alg.getMethod("digest", byte[][].class).invoke(sm3, (Object) new byte[][] {{1, 2}});
            assertThat(p.loaded("org.bouncycastle.crypto.digests.SM3Digest")).isTrue();
        }
    }
}
