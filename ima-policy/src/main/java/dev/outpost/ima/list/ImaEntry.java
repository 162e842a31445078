package dev.outpost.ima.list;

import dev.outpost.tpm.HashAlg;

/**
 * One measurement. {@code templateData} is exactly the byte string the kernel hashes into the template hash
 * (for the legacy {@code ima} template: the 20-byte digest and the name zero-padded to 256 bytes), so replay and
 * template-hash checks never need to know the template. The parsed fields are views of the same data.
 *
 * @param index        position in the kernel's list, counted from 0 at boot
 * @param pcr          PCR the entry was extended into (10 unless the IMA policy says otherwise)
 * @param templateHash as logged; all zero for a violation
 * @param digestAlg    algorithm of the file or buffer digest (SHA-1 for the legacy template)
 * @param path         file name, or for ima-buf the buffer's name (keyring name for keys)
 * @param signature    ima-sig / ima-modsig {@code sig} field, null when empty
 * @param buffer       ima-buf {@code buf} field, null otherwise
 * @param modsigAlg    ima-modsig {@code d-modsig} algorithm, null when absent
 * @param modsigDigest ima-modsig {@code d-modsig} digest, null when absent
 * @param modsig       ima-modsig appended PKCS#7 signature, null when absent
 */
public record ImaEntry(long index, int pcr, byte[] templateHash, ImaTemplate template, byte[] templateData,
        HashAlg digestAlg, byte[] digest, String path, byte[] signature, byte[] buffer,
        HashAlg modsigAlg, byte[] modsigDigest, byte[] modsig) {

    /** The kernel logs an all-zero template hash when it measured a file open for write (ToMToU/open-writers). */
    public boolean isViolation() {
        for (byte b : templateHash) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    public ImaEntry withIndex(long newIndex) {
        return new ImaEntry(newIndex, pcr, templateHash, template, templateData, digestAlg, digest, path,
                signature, buffer, modsigAlg, modsigDigest, modsig);
    }

    public ImaEntry withTemplateHash(byte[] newHash) {
        return new ImaEntry(index, pcr, newHash, template, templateData, digestAlg, digest, path, signature,
                buffer, modsigAlg, modsigDigest, modsig);
    }
}
