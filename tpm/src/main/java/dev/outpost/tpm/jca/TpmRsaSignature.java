package dev.outpost.tpm.jca;

import java.security.InvalidAlgorithmParameterException;
import java.security.SignatureException;
import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;

import dev.outpost.tpm.wire.TpmAlg;
import dev.outpost.tpm.wire.TpmtSignature;

/**
 * RSA signatures whose private key operation is a TPM2_Sign: SHA256withRSA (PKCS#1 v1.5, for CSRs and TLS 1.2) and
 * RSASSA-PSS (what TLS 1.3 signs a CertificateVerify with). The TPM pads, so only what the TPM does is offered:
 * SHA-256, MGF1 with SHA-256, and a salt as long as the digest (TPM 2.0 from revision 1.38 on; the agent checks its
 * TPM does so before it uses an RSA node key: NodeKeys.checkPssSalt in the agent). Signing only.
 */
public abstract class TpmRsaSignature extends TpmDigestSignature {
    TpmRsaSignature() {
        super("RSA");
    }

    /** The TPM scheme, or an exception when the parameters a caller set do not allow signing yet. */
    abstract int scheme() throws SignatureException;

    @Override
    final byte[] sign(TpmPrivateKey key, byte[] sha256) throws SignatureException {
        int scheme = scheme();
        TpmtSignature sig = key.signer().sign(sha256, scheme);
        if (sig.sigAlg() != scheme || sig.rsaSignature() == null) {
            throw new SignatureException("the TPM did not return a " + sig.schemeName() + " signature");
        }
        return sig.rsaSignature();
    }

    /** SHA256withRSA: RSASSA-PKCS1-v1_5. */
    public static final class Pkcs1 extends TpmRsaSignature {
        @Override
        int scheme() {
            return TpmAlg.RSASSA;
        }

        @Override
        protected void engineSetParameter(AlgorithmParameterSpec params) throws InvalidAlgorithmParameterException {
            if (params != null) {
                throw new InvalidAlgorithmParameterException("SHA256withRSA takes no parameters");
            }
        }
    }

    /** RSASSA-PSS with the one parameter set a TPM signs with. */
    public static final class Pss extends TpmRsaSignature {
        /** SHA-256, MGF1 with SHA-256, a 32-byte salt, trailer 1: TLS 1.3's rsa_pss_rsae_sha256. */
        public static final PSSParameterSpec SHA256 = new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1);
        private boolean parametersSet;

        @Override
        int scheme() throws SignatureException {
            if (!parametersSet) {
                throw new SignatureException("RSASSA-PSS needs its parameters set (SHA-256, MGF1 SHA-256, salt 32)");
            }
            return TpmAlg.RSAPSS;
        }

        @Override
        protected void engineSetParameter(AlgorithmParameterSpec params) throws InvalidAlgorithmParameterException {
            if (!(params instanceof PSSParameterSpec p) || !"SHA-256".equalsIgnoreCase(p.getDigestAlgorithm())
                    || !"MGF1".equalsIgnoreCase(p.getMGFAlgorithm())
                    || !(p.getMGFParameters() instanceof MGF1ParameterSpec m) || !"SHA-256".equalsIgnoreCase(m.getDigestAlgorithm())
                    || p.getSaltLength() != 32 || p.getTrailerField() != 1) {
                throw new InvalidAlgorithmParameterException(
                        "a TPM signs RSASSA-PSS with SHA-256, MGF1 SHA-256 and a 32-byte salt only, asked for " + params);
            }
            parametersSet = true;
        }

        @Override
        protected java.security.AlgorithmParameters engineGetParameters() {
            try {
                java.security.AlgorithmParameters ap = java.security.AlgorithmParameters.getInstance("RSASSA-PSS");
                ap.init(SHA256);
                return ap;
            } catch (java.security.GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
