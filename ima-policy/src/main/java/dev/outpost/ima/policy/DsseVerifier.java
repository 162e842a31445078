package dev.outpost.ima.policy;

import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.util.List;

/**
 * Verifies DSSE envelopes against trusted keys (EC keys, or the keys of X.509 certificates loaded through
 * {@link PublicKeys}). One valid signature by a trusted key suffices. ECDSA uses SHA-256 as Keylime's signer does;
 * P-384/P-521 keys also accept their own curve's hash. RSA keys verify RSASSA-PSS and PKCS#1 v1.5 with SHA-256.
 */
public final class DsseVerifier {
    private final List<PublicKey> trusted;

    public DsseVerifier(List<PublicKey> trusted) {
        if (trusted.isEmpty()) {
            throw new IllegalArgumentException("no trusted keys");
        }
        this.trusted = List.copyOf(trusted);
    }

    /** Returns the verified payload, or throws naming why the envelope is refused. */
    public byte[] verify(DsseEnvelope env, String expectedPayloadType) {
        if (!expectedPayloadType.equals(env.payloadType())) {
            throw new PolicyException("$.payloadType: '" + env.payloadType() + "' is not '" + expectedPayloadType + "'");
        }
        byte[] pae = DsseEnvelope.pae(env.payloadType(), env.payload());
        for (DsseEnvelope.Signature s : env.signatures()) {
            for (PublicKey k : trusted) {
                if (verifies(k, pae, s.sig())) {
                    return env.payload();
                }
            }
        }
        throw new PolicyException("Runtime policy failed DSSE signature verification: no signature verifies with a "
                + "trusted key");
    }

    private static boolean verifies(PublicKey key, byte[] pae, byte[] sig) {
        for (String alg : algorithms(key)) {
            try {
                Signature v = Signature.getInstance(alg);
                if (alg.equals("RSASSA-PSS")) {
                    v.setParameter(new java.security.spec.PSSParameterSpec("SHA-256", "MGF1",
                            java.security.spec.MGF1ParameterSpec.SHA256, 32, 1));
                }
                v.initVerify(key);
                v.update(pae);
                if (v.verify(sig)) {
                    return true;
                }
            } catch (GeneralSecurityException | RuntimeException malformed) {
                // A malformed signature is a failed signature; try the next algorithm or key.
            }
        }
        return false;
    }

    private static List<String> algorithms(PublicKey key) {
        if (key instanceof ECPublicKey ec) {
            int bits = ec.getParams().getCurve().getField().getFieldSize();
            if (bits > 384) {
                return List.of("SHA256withECDSA", "SHA512withECDSA");
            }
            return bits > 256 ? List.of("SHA256withECDSA", "SHA384withECDSA") : List.of("SHA256withECDSA");
        }
        if (key.getAlgorithm().equals("RSA")) {
            return List.of("RSASSA-PSS", "SHA256withRSA");
        }
        return List.of();
    }
}
