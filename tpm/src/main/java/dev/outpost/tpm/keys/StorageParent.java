package dev.outpost.tpm.keys;

import java.util.Optional;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.wire.ObjectAttributes;
import dev.outpost.tpm.wire.TpmAlg;
import dev.outpost.tpm.wire.TpmFormatException;
import dev.outpost.tpm.wire.TpmPublic;
import tss.tpm.CreatePrimaryResponse;
import tss.tpm.TPMS_PCR_SELECTION;
import tss.tpm.TPMS_SENSITIVE_CREATE;
import tss.tpm.TPMT_PUBLIC;
import tss.tpm.TPM_HANDLE;
import tss.tpm.TPM_RH;

/**
 * The storage key node keys are created under: the SRK persisted at 0x81000001 when the platform made one, else the
 * ECC P-256 SRK of the TCG provisioning guidance created again from its template in the owner hierarchy (the same
 * seed and template give the same key, so the node key's blob loads under it after every restart).
 */
public final class StorageParent {
    public static final int SRK_HANDLE = 0x81000001;
    static final int SRK_ATTRIBUTES = ObjectAttributes.FIXED_TPM | ObjectAttributes.FIXED_PARENT
            | ObjectAttributes.SENSITIVE_DATA_ORIGIN | ObjectAttributes.USER_WITH_AUTH | ObjectAttributes.NO_DA
            | ObjectAttributes.RESTRICTED | ObjectAttributes.DECRYPT;

    private StorageParent() {
    }

    /** The template of the ECC SRK. */
    public static byte[] template() {
        return Templates.ecc(HashAlg.SHA256, SRK_ATTRIBUTES, new byte[0], 128, TpmAlg.NULL, null, TpmAlg.ECC_NIST_P256, 32);
    }

    /** The persistent SRK when there is a storage key at 0x81000001, else a transient one from the template. */
    public static TpmKey load(Tpm2 tpm) {
        Optional<TpmPublic> persisted = Endorsement.readPersistent(tpm, SRK_HANDLE);
        if (persisted.isPresent() && persisted.get().has(ObjectAttributes.RESTRICTED | ObjectAttributes.DECRYPT)) {
            return new TpmKey(tpm, TPM_HANDLE.persistent(SRK_HANDLE & 0x00FFFFFF), persisted.get(), false);
        }
        return createPrimary(tpm);
    }

    public static TpmKey createPrimary(Tpm2 tpm) {
        CreatePrimaryResponse r = tpm.tss().CreatePrimary(TPM_HANDLE.from(TPM_RH.OWNER), new TPMS_SENSITIVE_CREATE(),
                TPMT_PUBLIC.fromBytes(template()), new byte[0], new TPMS_PCR_SELECTION[0]);
        try {
            return new TpmKey(tpm, r.handle, TpmPublic.parse(r.outPublic.toBytes()), true);
        } catch (TpmFormatException e) {
            tpm.flush(r.handle);
            throw new IllegalStateException("TPM returned a storage key we cannot parse: " + e.getMessage(), e);
        }
    }
}
