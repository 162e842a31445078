package dev.outpost.tpm.jca;

import java.io.IOException;
import java.math.BigInteger;
import java.security.InvalidAlgorithmParameterException;
import java.security.SignatureException;
import java.security.spec.AlgorithmParameterSpec;

import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERSequence;

import dev.outpost.tpm.wire.TpmAlg;
import dev.outpost.tpm.wire.TpmtSignature;

/**
 * SHA256withECDSA whose private key operation is a TPM2_Sign: the (r, s) the TPM returns is DER-encoded as JCA
 * callers (JSSE's CertificateVerify, PKCS#10 builders) expect.
 */
public final class TpmEcdsaSignature extends TpmDigestSignature {
    public TpmEcdsaSignature() {
        super("EC");
    }

    @Override
    byte[] sign(TpmPrivateKey key, byte[] sha256) throws SignatureException {
        TpmtSignature sig = key.signer().sign(sha256, TpmAlg.ECDSA);
        if (!sig.isEcdsa()) {
            throw new SignatureException("the TPM did not return an ECDSA signature");
        }
        ASN1EncodableVector v = new ASN1EncodableVector();
        v.add(new ASN1Integer(new BigInteger(1, sig.ecdsaR())));
        v.add(new ASN1Integer(new BigInteger(1, sig.ecdsaS())));
        try {
            return new DERSequence(v).getEncoded("DER");
        } catch (IOException e) {
            throw new SignatureException(e);
        }
    }

    @Override
    protected void engineSetParameter(AlgorithmParameterSpec params) throws InvalidAlgorithmParameterException {
        if (params != null) {
            throw new InvalidAlgorithmParameterException("ECDSA takes no parameters");
        }
    }
}
