package dev.outpost.tpm.credential;

import dev.outpost.tpm.wire.TpmFormatException;
import dev.outpost.tpm.wire.TpmReader;
import dev.outpost.tpm.wire.TpmWriter;

/**
 * The output of MakeCredential: the credential blob (TPMS_ID_OBJECT: integrityHMAC, encIdentity) and the
 * encrypted seed. The file form is the one {@code tpm2_makecredential} writes and
 * {@code tpm2_activatecredential -i} reads: magic 0xBADCC0DE, version 1, TPM2B_ID_OBJECT,
 * TPM2B_ENCRYPTED_SECRET.
 */
public record CredentialBlob(byte[] idObject, byte[] encryptedSecret) {
    private static final int MAGIC = 0xBADCC0DE;
    private static final int VERSION = 1;
    private static final int MAX_PART = 1024;

    public byte[] toFile() {
        return new TpmWriter().u32(MAGIC).u32(VERSION).sized(idObject).sized(encryptedSecret).toBytes();
    }

    public static CredentialBlob fromFile(byte[] file) throws TpmFormatException {
        TpmReader r = new TpmReader(file, "credential file");
        int magic = r.u32("magic");
        if (magic != MAGIC) {
            throw r.error("magic 0x" + Integer.toHexString(magic) + ", expected 0xbadc0de");
        }
        int version = r.u32("version");
        if (version != VERSION) {
            throw r.error("version " + version + ", expected 1");
        }
        CredentialBlob b = new CredentialBlob(r.sized("credentialBlob", MAX_PART), r.sized("secret", MAX_PART));
        r.expectEnd();
        return b;
    }

    /** integrityHMAC (a TPM2B_DIGEST) at the front of the id object. */
    public byte[] integrityHmac() throws TpmFormatException {
        TpmReader r = new TpmReader(idObject, "TPMS_ID_OBJECT");
        return r.sized("integrityHMAC", 64);
    }

    /** encIdentity: the rest of the id object after integrityHMAC. */
    public byte[] encIdentity() throws TpmFormatException {
        TpmReader r = new TpmReader(idObject, "TPMS_ID_OBJECT");
        r.sized("integrityHMAC", 64);
        return r.bytes(r.remaining(), "encIdentity");
    }
}
