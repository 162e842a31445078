package dev.outpost.tpm.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.math.BigInteger;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.credential.CredentialBlob;

/**
 * Hostile input for every parser of TPM structures: random bytes, every truncation, every single-byte
 * mutation and absurd sizes end in a TpmFormatException (or a clean parse), never another exception, a hang or
 * an allocation larger than the input.
 */
class WireFuzzTest {
    private interface Parser {
        void parse(byte[] b) throws TpmFormatException;
    }

    private static final List<Parser> PARSERS = List.of(
            TpmsAttest::parse, TpmPublic::parse, TpmPublic::parseSized, TpmtSignature::parse, PcrFile::read,
            CredentialBlob::fromFile);

    @Test
    void samplesParse() throws Exception {
        assertThat(TpmsAttest.parse(sampleAttest()).pcrSelect()).isEqualTo(PcrSelection.parse("sha256:0,1,10"));
        assertThat(TpmPublic.parse(rsaPublic()).describeKey()).isEqualTo("RSA 2048");
        assertThat(TpmPublic.parse(eccPublic()).describeKey()).isEqualTo("ECC P-256");
        assertThat(TpmtSignature.parse(sampleSignature()).isEcdsa()).isTrue();
        assertThat(TpmsAttest.parse(sampleCertify()).certifiedName()).hasSize(34);
        assertThat(PcrFile.read(samplePcrFile()).bank(HashAlg.SHA256)).hasSize(10);
    }

    @Test
    void randomTruncatedAndMutatedInputFailsCleanly() {
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            Random rnd = new Random(20261123);
            List<byte[]> seeds = List.of(sampleAttest(), sampleCertify(), rsaPublic(), eccPublic(), sampleSignature(),
                    new TpmWriter().sized(rsaPublic()).toBytes(), samplePcrFile());
            for (Parser p : PARSERS) {
                for (int i = 0; i < 3000; i++) {
                    byte[] b = new byte[rnd.nextInt(600)];
                    rnd.nextBytes(b);
                    survive(p, b);
                }
                for (byte[] seed : seeds) {
                    for (int n = 0; n < seed.length; n++) {
                        survive(p, Arrays.copyOf(seed, n));
                    }
                    for (int i = 0; i < seed.length; i++) {
                        byte[] m = seed.clone();
                        m[i] = (byte) rnd.nextInt(256);
                        survive(p, m);
                        m[i] = (byte) 0xFF;
                        survive(p, m);
                    }
                }
            }
        });
    }

    @Test
    void absurdSizesAreRejectedBeforeAllocation() {
        byte[] huge = new TpmWriter().u16(0xFFFF).toBytes();
        assertThatThrownBy(() -> TpmPublic.parseSized(huge)).isInstanceOf(TpmFormatException.class)
                .hasMessageContaining("offset");
        byte[] manyBanks = new TpmWriter().u32(0xFF544347).u16(0x8018).sized(new byte[0]).sized(new byte[0])
                .u64(0).u32(0).u32(0).u8(1).u64(0).u32(0x7FFFFFFF).toBytes();
        assertThatThrownBy(() -> TpmsAttest.parse(manyBanks)).isInstanceOf(TpmFormatException.class)
                .hasMessageContaining("pcrSelect.count");
        byte[] pcrFile = samplePcrFile();
        pcrFile[132] = (byte) 0xFF;
        pcrFile[135] = (byte) 0x7F;
        assertThatThrownBy(() -> PcrFile.read(pcrFile)).isInstanceOf(TpmFormatException.class);
    }

    private static void survive(Parser p, byte[] input) {
        try {
            p.parse(input);
        } catch (TpmFormatException expected) {
            assertThat(expected.getMessage()).isNotBlank();
        }
    }

    static byte[] sampleAttest() {
        TpmWriter w = new TpmWriter().u32(TpmsAttest.TPM_GENERATED_VALUE).u16(TpmsAttest.ST_ATTEST_QUOTE)
                .sized(new byte[34]).sized(new byte[20]).u64(123456).u32(3).u32(1).u8(1).u64(0x2019102300010000L);
        PcrSelection.parse("sha256:0,1,10").write(w);
        return w.sized(new byte[32]).toBytes();
    }

    /** A TPM2_Certify body: TPMS_CERTIFY_INFO {name, qualifiedName}. */
    static byte[] sampleCertify() {
        return new TpmWriter().u32(TpmsAttest.TPM_GENERATED_VALUE).u16(TpmsAttest.ST_ATTEST_CERTIFY)
                .sized(new byte[34]).sized(new byte[32]).u64(123456).u32(3).u32(1).u8(1).u64(0x2019102300010000L)
                .sized(new byte[34]).sized(new byte[34]).toBytes();
    }

    static byte[] rsaPublic() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        RSAPublicKey k = (RSAPublicKey) g.generateKeyPair().getPublic();
        byte[] mod = fixed(k.getModulus(), 256);
        return new TpmWriter().u16(TpmAlg.RSA).u16(HashAlg.SHA256.algId()).u32(0x00050072).sized(new byte[0])
                .u16(TpmAlg.NULL).u16(TpmAlg.RSASSA).u16(HashAlg.SHA256.algId()).u16(2048).u32(0).sized(mod).toBytes();
    }

    static byte[] eccPublic() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        ECPublicKey k = (ECPublicKey) g.generateKeyPair().getPublic();
        return new TpmWriter().u16(TpmAlg.ECC).u16(HashAlg.SHA256.algId()).u32(0x00050072).sized(new byte[0])
                .u16(TpmAlg.NULL).u16(TpmAlg.ECDSA).u16(HashAlg.SHA256.algId()).u16(TpmAlg.ECC_NIST_P256)
                .u16(TpmAlg.NULL).sized(fixed(k.getW().getAffineX(), 32)).sized(fixed(k.getW().getAffineY(), 32))
                .toBytes();
    }

    static byte[] sampleSignature() {
        return new TpmWriter().u16(TpmAlg.ECDSA).u16(HashAlg.SHA256.algId()).sized(new byte[32]).sized(new byte[32])
                .toBytes();
    }

    static byte[] samplePcrFile() {
        PcrValues v = new PcrValues();
        for (int i = 0; i < 10; i++) {
            v.put(HashAlg.SHA256, i, new byte[32]);
        }
        v.put(HashAlg.SHA1, 10, new byte[20]);
        return PcrFile.write(v, PcrSelection.parse("sha256:0,1,2,3,4,5,6,7,8,9+sha1:10"));
    }

    private static byte[] fixed(BigInteger v, int size) {
        byte[] b = v.toByteArray();
        byte[] out = new byte[size];
        int n = Math.min(size, b.length);
        System.arraycopy(b, b.length - n, out, size - n, n);
        return out;
    }
}
