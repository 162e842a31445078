package dev.outpost.tpm.jca;

import java.security.PrivateKey;
import java.security.PublicKey;

import dev.outpost.tpm.keys.NodeKey;

/**
 * A private key that lives in a TPM: it has no encoding, and signing with it is a TPM command. JCA and JSSE use it
 * through {@link TpmKeyProvider}'s signatures; the JDK's own providers refuse it (it is no ECPrivateKey and has no
 * PKCS#8 form), so the delayed provider selection of {@code Signature.getInstance} lands on ours.
 */
public final class TpmPrivateKey implements PrivateKey {
    private static final long serialVersionUID = 1L;

    private final transient PublicKey publicKey;
    private final transient DigestSigner signer;
    private final transient NodeKey nodeKey;

    public TpmPrivateKey(PublicKey publicKey, DigestSigner signer) {
        this.publicKey = publicKey;
        this.signer = signer;
        this.nodeKey = null;
    }

    /** A node key (public area and TPM-wrapped private blob), signing through {@code signer}. */
    public TpmPrivateKey(NodeKey nodeKey, DigestSigner signer) {
        this.publicKey = nodeKey.pub().publicKey();
        this.signer = signer;
        this.nodeKey = nodeKey;
    }

    /** The node key's blobs, when this key was made from them; else null. */
    public NodeKey nodeKey() {
        return nodeKey;
    }

    /** "EC" (the public key's algorithm), so JSSE picks ECDSA signature schemes for it. */
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
