package dev.outpost.ima.policy;

import java.util.Locale;

import dev.outpost.ima.list.DigestAlgNames;
import dev.outpost.ima.list.Hex;
import dev.outpost.tpm.HashAlg;

/**
 * One accepted digest. Keylime's schema admits lowercase hex of 40..128 digits; lengths that no supported algorithm
 * produces are refused as Keylime's policy tool does ("Invalid digest algorithm"), since they can never match.
 *
 * @param alg   the algorithm named by a "{@code <alg>:}" prefix, or null when unprefixed (any algorithm of that size)
 * @param value raw digest bytes
 */
public record PolicyDigest(HashAlg alg, byte[] value) {

    /** Null with {@code reason[0]} set when the text is not acceptable. */
    public static PolicyDigest parse(String s, String[] reason) {
        HashAlg alg = null;
        String hex = s;
        int colon = s.indexOf(':');
        if (colon >= 0) {
            alg = DigestAlgNames.parse(s.substring(0, colon));
            if (alg == null) {
                reason[0] = "Invalid digest algorithm \"" + s.substring(0, Math.min(colon, 16)) + "\"";
                return null;
            }
            hex = s.substring(colon + 1);
        }
        if (!hex.equals(hex.toLowerCase(Locale.ROOT))) {
            reason[0] = "digest must be lowercase hex";
            return null;
        }
        byte[] v = Hex.decodeOrNull(hex);
        if (v == null) {
            reason[0] = "digest is not hex";
            return null;
        }
        boolean sizeOk = alg != null ? v.length == alg.digestSize()
                : v.length == 20 || v.length == 32 || v.length == 48 || v.length == 64;
        if (!sizeOk) {
            reason[0] = "Invalid digest algorithm: " + hex.length() + " hex digits match no supported algorithm";
            return null;
        }
        return new PolicyDigest(alg, v);
    }

    public static PolicyDigest parse(String s) {
        String[] r = new String[1];
        PolicyDigest d = parse(s, r);
        if (d == null) {
            throw new PolicyException(r[0]);
        }
        return d;
    }
}
