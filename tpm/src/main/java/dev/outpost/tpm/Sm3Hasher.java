package dev.outpost.tpm;

import org.bouncycastle.crypto.digests.SM3Digest;

/** SM3 through Bouncy Castle's lightweight API, apart from {@link HashAlg} so that Bouncy Castle loads only for SM3. */
final class Sm3Hasher implements HashAlg.Hasher {
    private final SM3Digest d = new SM3Digest();

    private Sm3Hasher() {
    }

    static HashAlg.Hasher create() {
        return new Sm3Hasher();
    }

    @Override
    public void update(byte[] b, int off, int len) {
        d.update(b, off, len);
    }

    @Override
    public byte[] digest() {
        byte[] out = new byte[d.getDigestSize()];
        d.doFinal(out, 0);
        return out;
    }
}
