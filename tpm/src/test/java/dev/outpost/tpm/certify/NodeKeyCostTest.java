package dev.outpost.tpm.certify;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;

import javax.security.auth.x500.X500Principal;

import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.keys.AkTemplate;
import dev.outpost.tpm.keys.AttestationKey;
import dev.outpost.tpm.keys.EkTemplate;
import dev.outpost.tpm.keys.Endorsement;
import dev.outpost.tpm.keys.NodeKey;
import dev.outpost.tpm.keys.NodeKeyTemplate;
import dev.outpost.tpm.keys.QualifiedName;
import dev.outpost.tpm.keys.StorageParent;
import dev.outpost.tpm.keys.TpmKey;
import tss.tpm.TPM_HANDLE;
import tss.tpm.TPM_RH;

/**
 * What a TPM-held node key costs, measured on swtpm the way the agent does each step (one TPM connection per
 * operation, every transient object loaded and flushed), against a software key; and what the appliance's check
 * costs. Run: {@code mvn -pl tpm test -Dtest=NodeKeyCostTest -Doutpost.bench=true}.
 */
@ExtendWith(SwtpmExtension.class)
@EnabledIfSystemProperty(named = "outpost.bench", matches = "true")
class NodeKeyCostTest {
    private static final int N = Integer.getInteger("outpost.bench.n", 20);
    private static final SecureRandom RANDOM = new SecureRandom();

    interface Step {
        void run() throws Exception;
    }

    static double ms(Step s, int n) throws Exception {
        // Warm the JIT: a few rounds for TPM commands (the TPM's time dominates), many for pure Java.
        for (int i = 0; i < Math.max(3, n / 4); i++) {
            s.run();
        }
        long t = System.nanoTime();
        for (int i = 0; i < n; i++) {
            s.run();
        }
        return (System.nanoTime() - t) / 1e6 / n;
    }

    static double msWarm(Step s, int n, int warm) throws Exception {
        for (int i = 0; i < warm; i++) {
            s.run();
        }
        return ms(s, n);
    }

    @Test
    void costs(Swtpm swtpm) throws Exception {
        String uri = swtpm.uri();
        AttestationKey ak;
        TpmPublicPair ids;
        try (Tpm2 tpm = Tpm2.open(uri); TpmKey ek = Endorsement.load(tpm, EkTemplate.RSA_2048)) {
            ak = AttestationKey.create(tpm, ek, AkTemplate.ECC_P256);
            ids = new TpmPublicPair(ek.pub(), ak.pub());
        }
        NodeKey[] key = new NodeKey[1];
        byte[] nonce = new byte[32];
        RANDOM.nextBytes(nonce);
        Certification[] cert = new Certification[1];

        double software = msWarm(() -> {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            KeyPair kp = g.generateKeyPair();
            new JcaPKCS10CertificationRequestBuilder(new X500Principal("CN=x"), kp.getPublic())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())).getEncoded();
        }, N, 500);
        double create = ms(() -> {
            try (Tpm2 tpm = Tpm2.open(uri); TpmKey srk = StorageParent.load(tpm)) {
                key[0] = NodeKey.create(tpm, srk, NodeKeyTemplate.ECC_P256);
            }
        }, N);
        double certify = ms(() -> {
            try (Tpm2 tpm = Tpm2.open(uri); TpmKey ek = Endorsement.load(tpm, EkTemplate.RSA_2048);
                    TpmKey a = ak.load(tpm, ek); TpmKey srk = StorageParent.load(tpm); TpmKey k = key[0].load(tpm, srk)) {
                cert[0] = KeyCertifier.certify(tpm, k, a, nonce);
            }
        }, N);
        byte[] digest = new byte[32];
        double sign = ms(() -> {
            try (Tpm2 tpm = Tpm2.open(uri); TpmKey srk = StorageParent.load(tpm); TpmKey k = key[0].load(tpm, srk)) {
                NodeKey.sign(tpm, k, digest);
            }
        }, N);
        CertifyVerifier verifier = new CertifyVerifier();
        CertifyVerifier.Expectation expect = new CertifyVerifier.Expectation(ids.ak(),
                QualifiedName.ofAkUnderEk(ids.ek(), ids.ak()), nonce, key[0].pub().publicKey());
        assertThat(verifier.verify(expect, cert[0]).isValid()).isTrue();
        double verify = msWarm(() -> verifier.verify(expect, cert[0]), 2000, 5000);

        // The SRK persisted at 0x81000001 (as some platforms provision it) saves its re-creation on every operation.
        try (Tpm2 tpm = Tpm2.open(uri); TpmKey srk = StorageParent.createPrimary(tpm)) {
            tpm.tss().EvictControl(TPM_HANDLE.from(TPM_RH.OWNER), srk.handle(),
                    TPM_HANDLE.persistent(StorageParent.SRK_HANDLE & 0x00FFFFFF));
        }
        double signPersistent = ms(() -> {
            try (Tpm2 tpm = Tpm2.open(uri); TpmKey srk = StorageParent.load(tpm); TpmKey k = key[0].load(tpm, srk)) {
                assertThat(srk.handle().handle).isEqualTo(StorageParent.SRK_HANDLE);
                NodeKey.sign(tpm, k, digest);
            }
        }, N);

        System.out.printf("BENCH node key, mean of %d on swtpm, one TPM connection each:%n"
                + "BENCH   software P-256 key + CSR          %8.2f ms%n"
                + "BENCH   TPM2_Create node key (SRK made)   %8.2f ms%n"
                + "BENCH   TPM2_Certify by the AK            %8.2f ms  (EK, AK under EK with policy session, SRK, key)%n"
                + "BENCH   TPM2_Sign (SRK made each time)    %8.2f ms%n"
                + "BENCH   TPM2_Sign (SRK at 0x81000001)     %8.2f ms%n"
                + "BENCH   appliance CertifyVerifier.verify  %8.3f ms  (ECDSA P-256 AK, pure Java)%n",
                N, software, create, certify, sign, signPersistent, verify);
    }

    record TpmPublicPair(dev.outpost.tpm.wire.TpmPublic ek, dev.outpost.tpm.wire.TpmPublic ak) {
    }
}
