package dev.outpost.tpm;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;
import java.util.Optional;

/**
 * The hash algorithms of TPM PCR banks, by their TPM_ALG_ID and the names tpm2-tools and Keylime use.
 * SM3 comes from Bouncy Castle's lightweight API so no JCE provider has to be registered; only {@link Sm3Hasher}
 * names Bouncy Castle, so a command that never hashes with SM3 never opens Bouncy Castle's signed jar (checking its
 * signature cost ~0.17 s of every {@code verify ima} run).
 */
public enum HashAlg {
    SHA1(0x0004, "sha1", 20, "SHA-1"),
    SHA256(0x000B, "sha256", 32, "SHA-256"),
    SHA384(0x000C, "sha384", 48, "SHA-384"),
    SHA512(0x000D, "sha512", 64, "SHA-512"),
    SM3_256(0x0012, "sm3_256", 32, null);

    private final int algId;
    private final String tpmName;
    private final int digestSize;
    private final String jcaName;

    HashAlg(int algId, String tpmName, int digestSize, String jcaName) {
        this.algId = algId;
        this.tpmName = tpmName;
        this.digestSize = digestSize;
        this.jcaName = jcaName;
    }

    /** TPM_ALG_ID, e.g. 0x000B for SHA-256. */
    public int algId() {
        return algId;
    }

    /** Lowercase name as tpm2-tools and Keylime write it: sha1, sha256, sha384, sha512, sm3_256. */
    public String tpmName() {
        return tpmName;
    }

    public int digestSize() {
        return digestSize;
    }

    public static Optional<HashAlg> fromAlgId(int id) {
        for (HashAlg a : values()) {
            if (a.algId == id) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }

    /** Accepts tpm2-tools/Keylime names (sha256, sm3_256) and JCA-style ones (SHA-256). */
    public static Optional<HashAlg> fromName(String name) {
        if (name == null) {
            return Optional.empty();
        }
        String n = name.trim().toLowerCase(Locale.ROOT).replace("-", "");
        if (n.equals("sm3") || n.equals("sm3256")) {
            return Optional.of(SM3_256);
        }
        for (HashAlg a : values()) {
            if (a.tpmName.equals(n)) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }

    /** A fresh hasher; cheap enough to call per digest. */
    public Hasher newHasher() {
        if (jcaName == null) {
            return Sm3Hasher.create();
        }
        try {
            return new JcaHasher(MessageDigest.getInstance(jcaName));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(jcaName + " missing from the JDK", e);
        }
    }

    public byte[] digest(byte[]... parts) {
        Hasher h = newHasher();
        for (byte[] p : parts) {
            h.update(p, 0, p.length);
        }
        return h.digest();
    }

    /** The PCR extend operation: new = H(old || measurement). */
    public byte[] extend(byte[] pcr, byte[] measurement) {
        return digest(pcr, measurement);
    }

    /** A minimal incremental hash interface over JCA and Bouncy Castle digests. */
    public interface Hasher {
        void update(byte[] b, int off, int len);

        byte[] digest();
    }

    private record JcaHasher(MessageDigest md) implements Hasher {
        @Override
        public void update(byte[] b, int off, int len) {
            md.update(b, off, len);
        }

        @Override
        public byte[] digest() {
            return md.digest();
        }
    }

    @Override
    public String toString() {
        return tpmName;
    }
}
