package dev.outpost.tpm.credential;

import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.keys.EkAuth;
import dev.outpost.tpm.keys.TpmKey;
import dev.outpost.tpm.wire.TpmFormatException;
import tss.tpm.TPMS_ID_OBJECT;
import tss.tpm.TPM_HANDLE;
import tss.tpm.TPM_RC;

/** The device side of credential activation: the TPM releases the secret only to the right AK and EK. */
public final class CredentialActivator {
    private CredentialActivator() {
    }

    /** The TPM would not release the secret: the blob was not made for this AK under this EK. */
    public static final class CredentialRefusedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        CredentialRefusedException(String message) {
            super(message);
        }
    }

    public static byte[] activate(Tpm2 tpm, TpmKey ak, TpmKey ek, CredentialBlob blob) throws TpmFormatException {
        TPMS_ID_OBJECT id = new TPMS_ID_OBJECT(blob.integrityHmac(), blob.encIdentity());
        try (EkAuth auth = EkAuth.start(tpm, ek)) {
            // The AK is authorised in the ADMIN role by its (empty) auth value; the EK by its policy.
            // Errors are allowed here so TSS.Java does not print them; we report the TPM's verdict ourselves.
            byte[] secret = tpm.tss()._withSessions(TPM_HANDLE.pwSession(new byte[0]), auth.session())
                    ._allowErrors().ActivateCredential(ak.handle(), ek.handle(), id, blob.encryptedSecret());
            TPM_RC rc = tpm.tss()._getLastResponseCode();
            if (rc != TPM_RC.SUCCESS) {
                throw new CredentialRefusedException("the TPM refused the credential: " + rc
                        + (rc == TPM_RC.INTEGRITY ? " (made for another key or another TPM)" : ""));
            }
            return secret;
        }
    }
}
