package dev.outpost.agent.enroll;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.Date;

import javax.security.auth.x500.X500Principal;

import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.agent.state.AgentState;
import dev.outpost.agent.state.NodeIdentity;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.certify.CertifyVerifier;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.jca.TpmKeyProvider;
import dev.outpost.tpm.jca.TpmPrivateKey;
import dev.outpost.tpm.keys.AkTemplate;
import dev.outpost.tpm.keys.AttestationKey;
import dev.outpost.tpm.keys.EkTemplate;
import dev.outpost.tpm.keys.Endorsement;
import dev.outpost.tpm.keys.QualifiedName;
import dev.outpost.tpm.keys.TpmKey;

/** The agent's TPM-held node key: made, certified, used for a CSR, kept on disk as a blob only, read back, signing. */
@ExtendWith(SwtpmExtension.class)
class TpmNodeKeysTest {

    @Test
    void aTpmNodeKeySignsItsCsrIsCertifiedAndSurvivesTheStateDirectory(Swtpm swtpm, @TempDir Path dir) throws Exception {
        DeviceTpm tpm = new DeviceTpm(swtpm.uri(), EkTemplate.RSA_2048, AkTemplate.ECC_P256, dir);
        String deviceId = tpm.endorsement().deviceId();
        NodeKeys keys = new NodeKeys(tpm, false);
        KeyPair key = keys.newKey();
        assertThat(key.getPrivate()).isInstanceOf(TpmPrivateKey.class);
        assertThat(key.getPrivate().getEncoded()).isNull();

        PKCS10CertificationRequest csr = new PKCS10CertificationRequest(NodeKeys.csr(key, deviceId));
        assertThat(csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(key.getPublic()))).isTrue();

        byte[] nonce = HashAlg.SHA256.digest("secret".getBytes());
        AttestationKey ak = tpm.attestationKey();
        TpmKey ek;
        try (Tpm2 t = Tpm2.open(swtpm.uri()); TpmKey e = Endorsement.load(t, EkTemplate.RSA_2048)) {
            ek = e;
        }
        var r = new CertifyVerifier().verify(new CertifyVerifier.Expectation(ak.pub(),
                QualifiedName.ofAkUnderEk(ek.pub(), ak.pub()), nonce, key.getPublic()), keys.certify(key, nonce));
        assertThat(r.describe()).isEqualTo("valid");

        // Saved with a certificate for it: only the TPM blob is on disk, and it signs again once read back.
        X509Certificate cert = selfSigned(key);
        AgentState state = new AgentState(dir, tpm::sign);
        Files.writeString(dir.resolve("node.key"), "left over from a software key");
        state.save(key.getPrivate(), pem(cert), pem(cert));
        assertThat(Files.exists(state.tpmKeyFile())).isTrue();
        assertThat(Files.exists(state.keyFile())).isFalse();
        NodeIdentity id = state.identity().orElseThrow();
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initSign(id.key());
        s.update(new byte[] {1, 2, 3});
        byte[] sig = s.sign();
        Signature v = Signature.getInstance("SHA256withECDSA");
        v.initVerify(cert.getPublicKey());
        v.update(new byte[] {1, 2, 3});
        assertThat(v.verify(sig)).isTrue();

        // Opened without the TPM, the state still reads, but its key cannot sign.
        NodeIdentity detached = new AgentState(dir).identity().orElseThrow();
        Signature d = Signature.getInstance("SHA256withECDSA");
        d.initSign(detached.key());
        d.update(new byte[] {1});
        assertThatThrownBy(d::sign).hasMessageContaining("without its TPM");

        // A renewal's new key saved with an old certificate (a crash between the writes) is no identity.
        KeyPair next = keys.newKey();
        Files.write(state.tpmKeyFile(), ((TpmPrivateKey) next.getPrivate()).nodeKey().encoded());
        assertThat(state.identity()).isEmpty();
    }

    @Test
    void nodeKeyIsTpmUnlessConfiguredSoftware(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("a.yaml");
        Files.writeString(f, "appliance: {host: h, port: 1}\ntrust: {bundle: /x}\n");
        assertThat(AgentConfig.load(f).nodeKey()).isEqualTo("tpm");
        assertThat(AgentConfig.load(f).softwareNodeKey()).isFalse();
        Files.writeString(f, "appliance: {host: h, port: 1}\ntrust: {bundle: /x}\nnodeKey: software\n");
        assertThat(AgentConfig.load(f).softwareNodeKey()).isTrue();
        Files.writeString(f, "appliance: {host: h, port: 1}\ntrust: {bundle: /x}\nnodeKey: tpm-rsa\n");
        assertThat(AgentConfig.load(f).softwareNodeKey()).isFalse();
        assertThat(AgentConfig.load(f).nodeKeyTemplate()).isEqualTo(dev.outpost.tpm.keys.NodeKeyTemplate.RSA_2048);
        Files.writeString(f, "appliance: {host: h, port: 1}\ntrust: {bundle: /x}\nnodeKey: hsm\n");
        assertThatThrownBy(() -> AgentConfig.load(f)).hasMessageContaining("nodeKey: tpm, tpm-rsa or software");
    }

    private static X509Certificate selfSigned(KeyPair key) throws Exception {
        X500Principal name = new X500Principal("CN=node");
        Date now = new Date();
        return new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(name, BigInteger.ONE,
                new Date(now.getTime() - 60_000), new Date(now.getTime() + 3_600_000), name, key.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").setProvider(TpmKeyProvider.install())
                        .build(key.getPrivate())));
    }

    private static String pem(X509Certificate c) throws Exception {
        return dev.outpost.tpm.keys.Pem.certificate(c);
    }
}
