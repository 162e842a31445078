package dev.outpost.ima.list;

import java.nio.charset.StandardCharsets;

import dev.outpost.tpm.HashAlg;

/** The algorithm prefix of {@code d-ng} fields, as the kernel and Keylime spell it. */
public final class DigestAlgNames {
    private DigestAlgNames() {
    }

    /**
     * Kernel names are {@code crypto/hash_info.c}'s: sm3 was "sm3-256" before 5.13 and "sm3" since; Keylime's
     * fixtures write "sm3_256". Anything else (md5, sha224, streebog, wp512) is refused: no PCR bank uses it and
     * no policy could match it.
     */
    public static HashAlg parse(String name) {
        switch (name) {
            case "sha1":
                return HashAlg.SHA1;
            case "sha256":
                return HashAlg.SHA256;
            case "sha384":
                return HashAlg.SHA384;
            case "sha512":
                return HashAlg.SHA512;
            case "sm3":
            case "sm3-256":
            case "sm3_256":
                return HashAlg.SM3_256;
            default:
                return null;
        }
    }

    public static HashAlg parse(byte[] b, int off, int len) {
        // The names nearly every entry carries, compared in place: a String per entry showed in the list's profile.
        if (len == 6 && b[off] == 's' && b[off + 1] == 'h' && b[off + 2] == 'a' && b[off + 3] == '2'
                && b[off + 4] == '5' && b[off + 5] == '6') {
            return HashAlg.SHA256;
        } else if (len == 4 && b[off] == 's' && b[off + 1] == 'h' && b[off + 2] == 'a' && b[off + 3] == '1') {
            return HashAlg.SHA1;
        }
        return parse(new String(b, off, len, StandardCharsets.ISO_8859_1));
    }

    /** The name written into new entries; the kernel's current spelling. */
    public static String kernelName(HashAlg alg) {
        return alg == HashAlg.SM3_256 ? "sm3" : alg.tpmName();
    }
}
