package dev.outpost.agent.enroll;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;

import javax.security.auth.x500.X500Principal;

import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.tpm.certify.Certification;
import dev.outpost.tpm.jca.TpmKeyProvider;
import dev.outpost.tpm.jca.TpmPrivateKey;
import dev.outpost.tpm.jca.TpmRsaSignature;
import dev.outpost.tpm.keys.NodeKey;
import dev.outpost.tpm.keys.NodeKeyTemplate;

/**
 * The node key an SVID certifies, new for every SVID so a leaked key dies with its certificate. By default it is made
 * in the TPM (ECC P-256, or RSA 2048 with {@code nodeKey: tpm-rsa}; fixedTPM, sign only): the private key never exists outside the TPM, the AK certifies it for
 * the appliance, and every signature with it (CSR, TLS) is a TPM2_Sign. {@code nodeKey: software} keeps it in memory
 * and on disk (0600) instead; the appliance accepts that only when configured to, and marks the device for it.
 */
public final class NodeKeys {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final DeviceTpm tpm;
    private final boolean software;
    private final NodeKeyTemplate template;
    private volatile boolean pssChecked;

    public NodeKeys(DeviceTpm tpm, boolean software) {
        this(tpm, software, NodeKeyTemplate.ECC_P256);
    }

    public NodeKeys(DeviceTpm tpm, boolean software, NodeKeyTemplate template) {
        this.tpm = tpm;
        this.software = software;
        this.template = template;
    }

    /** A new node key: in the TPM (its private half a {@link TpmPrivateKey}), or in memory when configured so. */
    public KeyPair newKey() throws GeneralSecurityException, IOException {
        if (software) {
            return generate();
        }
        TpmKeyProvider.install();
        NodeKey key = tpm.createNodeKey(template);
        KeyPair pair = new KeyPair(key.pub().publicKey(), tpmPrivateKey(tpm, key));
        if (template == NodeKeyTemplate.RSA_2048 && !pssChecked) {
            checkPssSalt(pair);
            pssChecked = true;
        }
        return pair;
    }

    /**
     * TLS 1.3 signs with RSA-PSS and a salt as long as the digest; TPMs before TPM 2.0 revision 1.38 (and some since, in
     * non-FIPS mode) salt with the most the key allows, which every TLS 1.3 peer refuses. Found out once, here, with
     * a clear error, rather than as a handshake failure at every connection.
     */
    static void checkPssSalt(KeyPair pair) throws GeneralSecurityException {
        byte[] probe = "outpost: RSA-PSS salt length probe".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        java.security.Signature s = java.security.Signature.getInstance("RSASSA-PSS");
        s.initSign(pair.getPrivate());
        s.setParameter(TpmRsaSignature.Pss.SHA256);
        s.update(probe);
        byte[] sig = s.sign();
        java.security.Signature v = java.security.Signature.getInstance("RSASSA-PSS");
        v.setParameter(TpmRsaSignature.Pss.SHA256);
        v.initVerify(pair.getPublic());
        v.update(probe);
        if (!v.verify(sig)) {
            throw new GeneralSecurityException("this TPM's RSA-PSS signatures do not use a salt as long as the digest,"
                    + " which TLS 1.3 requires: use nodeKey: tpm (ECC P-256) on this device");
        }
    }

    /** The private key of a node key in the TPM, signing through it. */
    public static TpmPrivateKey tpmPrivateKey(DeviceTpm tpm, NodeKey key) {
        return TpmPrivateKey.of(key, (digest, sigAlg) -> tpm.sign(key, digest, sigAlg));
    }

    /** TPM2_Certify of a TPM-held key by the AK over the appliance's nonce; null for a software key. */
    public Certification certify(KeyPair key, byte[] nonce) throws IOException {
        if (key.getPrivate() instanceof TpmPrivateKey t && t.nodeKey() != null) {
            return tpm.certify(t.nodeKey(), nonce);
        }
        return null;
    }

    /** The three protocol fields of a certification (base64), or nulls. */
    public static String[] fields(Certification c) {
        return c == null ? new String[3]
                : new String[] {Codec.base64(c.keyPublic()), Codec.base64(c.attest()), Codec.base64(c.signature())};
    }

    /** A software P-256 key (the load generator's simulated devices, and {@code nodeKey: software}). */
    public static KeyPair generate() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return g.generateKeyPair();
    }

    /**
     * A PKCS#10 request proving possession of the key (signed in the TPM for a TPM-held key); the CA ignores its
     * subject and decides the identity.
     */
    public static byte[] csr(KeyPair key, String deviceId) throws GeneralSecurityException {
        try {
            JcaContentSignerBuilder signer = new JcaContentSignerBuilder(
                    "RSA".equals(key.getPublic().getAlgorithm()) ? "SHA256withRSA" : "SHA256withECDSA");
            if (key.getPrivate() instanceof TpmPrivateKey) {
                signer.setProvider(TpmKeyProvider.get());
            }
            return new JcaPKCS10CertificationRequestBuilder(new X500Principal("CN=" + deviceId), key.getPublic())
                    .build(signer.build(key.getPrivate()))
                    .getEncoded();
        } catch (OperatorCreationException | IOException | RuntimeException e) {
            throw new GeneralSecurityException("cannot build CSR: " + e.getMessage(), e);
        }
    }
}
