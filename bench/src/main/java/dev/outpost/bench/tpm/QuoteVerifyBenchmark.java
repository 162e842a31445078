package dev.outpost.bench.tpm;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.keys.Templates;
import dev.outpost.tpm.quote.QuoteExpectation;
import dev.outpost.tpm.quote.QuoteResult;
import dev.outpost.tpm.quote.QuoteVerifier;
import dev.outpost.tpm.wire.ObjectAttributes;
import dev.outpost.tpm.wire.PcrSelection;
import dev.outpost.tpm.wire.PcrValues;
import dev.outpost.tpm.wire.PublicAreas;
import dev.outpost.tpm.wire.TpmAlg;
import dev.outpost.tpm.wire.TpmPublic;
import dev.outpost.tpm.wire.TpmWriter;
import dev.outpost.tpm.wire.TpmsAttest;

/**
 * Full quote verification against the bare signature check over the same bytes, for RSA 2048 and ECDSA P-256
 * attestation keys. The quote is made in software, byte for byte as a TPM makes it.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class QuoteVerifyBenchmark {
    @Param({"rsa", "ecdsa"})
    public String alg;

    private final QuoteVerifier verifier = new QuoteVerifier();
    private QuoteExpectation expectation;
    private byte[] attest;
    private byte[] signature;
    private byte[] rawSignature;
    private KeyPair keys;
    private PcrValues pcrs;

    @Setup
    public void setup() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance(alg.equals("rsa") ? "RSA" : "EC");
        if (alg.equals("rsa")) {
            g.initialize(2048);
        } else {
            g.initialize(new ECGenParameterSpec("secp256r1"));
        }
        keys = g.generateKeyPair();
        TpmPublic ak = TpmPublic.parse(PublicAreas.signingKey(keys.getPublic(),
                Templates.AK_REQUIRED | ObjectAttributes.USER_WITH_AUTH));
        byte[] nonce = new byte[32];
        new SecureRandom().nextBytes(nonce);
        PcrSelection sel = PcrSelection.parse("sha256:0,1,2,3,4,5,6,7,8,9,10");
        pcrs = new PcrValues();
        for (int i = 0; i <= 10; i++) {
            pcrs.put(HashAlg.SHA256, i, HashAlg.SHA256.digest(new byte[] {(byte) i}));
        }
        TpmWriter w = new TpmWriter().u32(TpmsAttest.TPM_GENERATED_VALUE).u16(TpmsAttest.ST_ATTEST_QUOTE)
                .sized(ak.name()).sized(nonce).u64(123456789L).u32(7).u32(0).u8(1).u64(0x2019102300163636L);
        sel.write(w);
        attest = w.sized(pcrs.digest(sel, HashAlg.SHA256).orElseThrow()).toBytes();
        Signature s = Signature.getInstance(alg.equals("rsa") ? "SHA256withRSA" : "SHA256withECDSA");
        s.initSign(keys.getPrivate());
        s.update(attest);
        byte[] der = s.sign();
        rawSignature = der;
        signature = alg.equals("rsa")
                ? new TpmWriter().u16(TpmAlg.RSASSA).u16(HashAlg.SHA256.algId()).sized(der).toBytes()
                : ecdsaTpmt(der);
        expectation = QuoteExpectation.of(ak, ak.name(), nonce, sel);
        if (!verifier.verify(expectation, attest, signature, pcrs).isValid()) {
            throw new IllegalStateException("benchmark quote does not verify");
        }
    }

    private static byte[] ecdsaTpmt(byte[] der) throws Exception {
        org.bouncycastle.asn1.ASN1Sequence seq = org.bouncycastle.asn1.ASN1Sequence.getInstance(der);
        byte[] r = PublicAreas.unsigned(((org.bouncycastle.asn1.ASN1Integer) seq.getObjectAt(0)).getPositiveValue(), 32);
        byte[] sv = PublicAreas.unsigned(((org.bouncycastle.asn1.ASN1Integer) seq.getObjectAt(1)).getPositiveValue(), 32);
        return new TpmWriter().u16(TpmAlg.ECDSA).u16(HashAlg.SHA256.algId()).sized(r).sized(sv).toBytes();
    }

    @Benchmark
    public QuoteResult verifyQuote() {
        return verifier.verify(expectation, attest, signature, pcrs);
    }

    /** The signature check alone, with the primitive the verifier uses (JCA RSA, Bouncy Castle ECDSA). */
    @Benchmark
    public boolean bareSignature() throws Exception {
        if (alg.equals("ecdsa")) {
            return EcdsaPrimitives.verifyBc(keys.getPublic(), attest, rawSignature);
        }
        Signature s = Signature.getInstance("SHA256withRSA");
        s.initVerify(keys.getPublic());
        s.update(attest);
        return s.verify(rawSignature);
    }
}
