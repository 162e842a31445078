package dev.outpost.tpm.jca;

import java.io.IOException;
import java.math.BigInteger;
import java.security.InvalidKeyException;
import java.security.InvalidParameterException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SignatureException;
import java.security.SignatureSpi;
import java.security.spec.AlgorithmParameterSpec;

import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERSequence;

import dev.outpost.tpm.wire.TpmAlg;
import dev.outpost.tpm.wire.TpmtSignature;

/**
 * SHA256withECDSA whose private key operation is a TPM2_Sign: the message is hashed here, the TPM signs the digest,
 * and the (r, s) it returns is DER-encoded as JCA callers (JSSE's CertificateVerify, PKCS#10 builders) expect.
 * Signing only: verification stays with the JDK's providers.
 */
public final class TpmEcdsaSignature extends SignatureSpi {
    private final MessageDigest digest;
    private TpmPrivateKey key;

    public TpmEcdsaSignature() {
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    protected void engineInitSign(PrivateKey privateKey) throws InvalidKeyException {
        if (!(privateKey instanceof TpmPrivateKey k) || !"EC".equals(k.getAlgorithm())) {
            throw new InvalidKeyException("not a TPM-held EC key");
        }
        key = k;
        digest.reset();
    }

    @Override
    protected void engineInitVerify(PublicKey publicKey) throws InvalidKeyException {
        throw new InvalidKeyException("TPM signatures sign only; verify with the JDK's providers");
    }

    @Override
    protected void engineUpdate(byte b) {
        digest.update(b);
    }

    @Override
    protected void engineUpdate(byte[] b, int off, int len) {
        digest.update(b, off, len);
    }

    @Override
    protected byte[] engineSign() throws SignatureException {
        if (key == null) {
            throw new SignatureException("not initialised for signing");
        }
        TpmtSignature sig = key.signer().sign(digest.digest(), TpmAlg.ECDSA);
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
    protected boolean engineVerify(byte[] sigBytes) throws SignatureException {
        throw new SignatureException("sign only");
    }

    @Override
    protected void engineSetParameter(AlgorithmParameterSpec params) throws java.security.InvalidAlgorithmParameterException {
        if (params != null) {
            throw new java.security.InvalidAlgorithmParameterException("ECDSA takes no parameters");
        }
    }

    @Override
    @Deprecated
    protected void engineSetParameter(String param, Object value) {
        throw new InvalidParameterException("no parameters");
    }

    @Override
    @Deprecated
    protected Object engineGetParameter(String param) {
        throw new InvalidParameterException("no parameters");
    }
}
