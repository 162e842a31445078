package dev.outpost.tpm.jca;

import java.math.BigInteger;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.RSAKey;
import java.security.interfaces.RSAPublicKey;

import dev.outpost.tpm.keys.NodeKey;

/**
 * A private key that lives in a TPM: it has no encoding, and signing with it is a TPM command. JCA and JSSE use it
 * through {@link TpmKeyProvider}'s signatures; the JDK's own providers refuse it (it is no ECPrivateKey and has no
 * PKCS#8 form), so the delayed provider selection of {@code Signature.getInstance} lands on ours.
 */
public class TpmPrivateKey implements PrivateKey {
    private static final long serialVersionUID = 1L;

    private final transient PublicKey publicKey;
    private final transient DigestSigner signer;
    private final transient NodeKey nodeKey;

    private TpmPrivateKey(PublicKey publicKey, DigestSigner signer, NodeKey nodeKey) {
        this.publicKey = publicKey;
        this.signer = signer;
        this.nodeKey = nodeKey;
    }

    /** A TPM-held key known by its public half, signing through {@code signer}. */
    public static TpmPrivateKey of(PublicKey publicKey, DigestSigner signer) {
        return publicKey instanceof RSAPublicKey rsa ? new Rsa(rsa, signer, null) : new TpmPrivateKey(publicKey, signer, null);
    }

    /** A node key (public area and TPM-wrapped private blob), signing through {@code signer}. */
    public static TpmPrivateKey of(NodeKey nodeKey, DigestSigner signer) {
        PublicKey pub = nodeKey.pub().publicKey();
        return pub instanceof RSAPublicKey rsa ? new Rsa(rsa, signer, nodeKey) : new TpmPrivateKey(pub, signer, nodeKey);
    }

    /**
     * An RSA key: JSSE picks RSA signature schemes by the private key's size, which it reads from an {@link RSAKey};
     * without one it offers none. The JDK's RSA providers still refuse it (it is no RSAPrivateKey).
     */
    static final class Rsa extends TpmPrivateKey implements RSAKey {
        private static final long serialVersionUID = 1L;

        Rsa(RSAPublicKey publicKey, DigestSigner signer, NodeKey nodeKey) {
            super(publicKey, signer, nodeKey);
        }

        @Override
        public BigInteger getModulus() {
            return ((RSAPublicKey) publicKey()).getModulus();
        }
    }

    /** The node key's blobs, when this key was made from them; else null. */
    public NodeKey nodeKey() {
        return nodeKey;
    }

    /** "EC" or "RSA" (the public key's algorithm), so JSSE picks signature schemes of that kind for it. */
    @Override
    public String getAlgorithm() {
        return publicKey.getAlgorithm();
    }

    /** None: the private key never exists outside the TPM. */
    @Override
    public String getFormat() {
        return null;
    }

    @Override
    public byte[] getEncoded() {
        return null;
    }

    public PublicKey publicKey() {
        return publicKey;
    }

    DigestSigner signer() {
        return signer;
    }

    @Override
    public String toString() {
        return "TPM-held " + publicKey.getAlgorithm() + " private key";
    }
}
