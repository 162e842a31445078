package dev.outpost.sim;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;

import dev.outpost.ima.verify.ImaSignature;
import dev.outpost.ima.verify.KeyIds;
import dev.outpost.tpm.HashAlg;

/**
 * An evmctl stand-in: signs file contents into {@code security.ima} v2 signatures (ECDSA P-256 over the SHA-256
 * file digest, key id = last 4 bytes of SHA-1 of the public key bits), for {@link SimulatedKernel#measureSigned}.
 */
public final class ImaSigner {
    private final KeyPair keys;
    private final int keyId;

    private ImaSigner(KeyPair keys) {
        this.keys = keys;
        this.keyId = KeyIds.keyIdV2(keys.getPublic());
    }

    /** A new P-256 signing key (default JCA randomness: the key only signs test files). */
    public static ImaSigner generate() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return new ImaSigner(g.generateKeyPair());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no EC P-256 in this JVM", e);
        }
    }

    public PublicKey publicKey() {
        return keys.getPublic();
    }

    public int keyId() {
        return keyId;
    }

    /** The xattr value, exactly as IMA logs it in the ima-sig {@code sig} field. */
    public byte[] sign(byte[] content) {
        try {
            // The kernel verifies the signature over the file digest itself, not a hash of it.
            Signature s = Signature.getInstance("NONEwithECDSA");
            s.initSign(keys.getPrivate());
            s.update(SimulatedKernel.IMA_HASH.digest(content));
            return new ImaSignature(HashAlg.SHA256, keyId, s.sign()).encode();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign", e);
        }
    }
}
