package dev.outpost.tpm.jca;

import java.security.InvalidKeyException;
import java.security.InvalidParameterException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SignatureException;
import java.security.SignatureSpi;

/**
 * What every signature by a TPM-held key shares: the message is hashed here with SHA-256 and the TPM signs the
 * digest (TPM2_Sign with a null ticket). Signing only: verification stays with the JDK's providers. Subclasses turn
 * the digest into the signature their algorithm's callers expect.
 */
abstract class TpmDigestSignature extends SignatureSpi {
    private final MessageDigest digest;
    private final String keyAlgorithm;
    private TpmPrivateKey key;

    TpmDigestSignature(String keyAlgorithm) {
        this.keyAlgorithm = keyAlgorithm;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The signature over {@code sha256} by {@code key}, encoded as JCA callers of this algorithm expect. */
    abstract byte[] sign(TpmPrivateKey key, byte[] sha256) throws SignatureException;

    @Override
    protected final void engineInitSign(PrivateKey privateKey) throws InvalidKeyException {
        if (!(privateKey instanceof TpmPrivateKey k) || !keyAlgorithm.equals(k.getAlgorithm())) {
            throw new InvalidKeyException("not a TPM-held " + keyAlgorithm + " key");
        }
        key = k;
        digest.reset();
    }

    @Override
    protected final void engineInitVerify(PublicKey publicKey) throws InvalidKeyException {
        throw new InvalidKeyException("TPM signatures sign only; verify with the JDK's providers");
    }

    @Override
    protected final void engineUpdate(byte b) {
        digest.update(b);
    }

    @Override
    protected final void engineUpdate(byte[] b, int off, int len) {
        digest.update(b, off, len);
    }

    @Override
    protected final byte[] engineSign() throws SignatureException {
        if (key == null) {
            throw new SignatureException("not initialised for signing");
        }
        return sign(key, digest.digest());
    }

    @Override
    protected final boolean engineVerify(byte[] sigBytes) throws SignatureException {
        throw new SignatureException("sign only");
    }

    @Override
    @Deprecated
    protected final void engineSetParameter(String param, Object value) {
        throw new InvalidParameterException("no parameters");
    }

    @Override
    @Deprecated
    protected final Object engineGetParameter(String param) {
        throw new InvalidParameterException("no parameters");
    }
}
