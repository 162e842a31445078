package dev.outpost.tpm.credential;

import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.keys.EkAuth;
import dev.outpost.tpm.keys.TpmKey;
import dev.outpost.tpm.wire.TpmFormatException;
import tss.tpm.TPMS_ID_OBJECT;
import tss.tpm.TPM_HANDLE;

/** The device side of credential activation: the TPM releases the secret only to the right AK and EK. */
public final class CredentialActivator {
    private CredentialActivator() {
    }

    public static byte[] activate(Tpm2 tpm, TpmKey ak, TpmKey ek, CredentialBlob blob) throws TpmFormatException {
        TPMS_ID_OBJECT id = new TPMS_ID_OBJECT(blob.integrityHmac(), blob.encIdentity());
        try (EkAuth auth = EkAuth.start(tpm, ek)) {
            // The AK is authorised in the ADMIN role by its (empty) auth value; the EK by its policy.
            return tpm.tss()._withSessions(TPM_HANDLE.pwSession(new byte[0]), auth.session())
                    .ActivateCredential(ak.handle(), ek.handle(), id, blob.encryptedSecret());
        }
    }
}
