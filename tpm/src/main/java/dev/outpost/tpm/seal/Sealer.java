package dev.outpost.tpm.seal;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.keys.StorageParent;
import dev.outpost.tpm.keys.TpmKey;
import dev.outpost.tpm.pcr.Pcrs;
import dev.outpost.tpm.wire.ObjectAttributes;
import dev.outpost.tpm.wire.PcrSelection;
import dev.outpost.tpm.wire.PcrValues;
import dev.outpost.tpm.wire.TpmWriter;
import tss.TpmException;
import tss.tpm.CreateResponse;
import tss.tpm.TPM2B_PRIVATE;
import tss.tpm.TPMS_PCR_SELECTION;
import tss.tpm.TPMS_SENSITIVE_CREATE;
import tss.tpm.TPMT_PUBLIC;
import tss.tpm.TPMT_SYM_DEF;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_HANDLE;
import tss.tpm.TPM_RC;
import tss.tpm.TPM_SE;

/**
 * Seals a small secret (at most {@link #MAX_SECRET} bytes: a data key, not the data) to one TPM: a keyedHash
 * sealed-data object (TPM2_Create with the secret as sensitive data) under the storage parent ({@link StorageParent}),
 * fixedTPM | fixedParent | noDA. Without PCRs it has userWithAuth and an empty auth value: whoever can talk to this TPM
 * can unseal it, nobody elsewhere can. With PCRs its authPolicy is TPM2_PolicyPCR over the PCRs' values at sealing
 * time (computed here, SHA-256), and only a policy session that passes PolicyPCR with those values unseals it.
 *
 * <p>Every transient object and session is flushed (swtpm has no resource manager).
 */
public final class Sealer {
    public static final int MAX_SECRET = 128;
    private static final int TPM_CC_POLICY_PCR = 0x0000017F;
    private static final int ALG_KEYEDHASH = 0x0008;
    private static final int ALG_NULL = 0x0010;
    private static final int SEAL_ATTRIBUTES = ObjectAttributes.FIXED_TPM | ObjectAttributes.FIXED_PARENT
            | ObjectAttributes.NO_DA;

    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    private Sealer() {
    }

    /** Seals {@code secret}; {@code pcrs} null or empty: no PCR policy. */
    public static SealedBlob seal(Tpm2 tpm, byte[] secret, PcrSelection pcrs) {
        if (secret == null || secret.length == 0 || secret.length > MAX_SECRET) {
            throw new IllegalArgumentException("a sealed secret is 1.." + MAX_SECRET + " bytes");
        }
        boolean policy = pcrs != null && !pcrs.isEmpty();
        byte[] pcrDigest = null;
        byte[] authPolicy = new byte[0];
        int attributes = SEAL_ATTRIBUTES;
        if (policy) {
            if (!pcrs.banks().equals(java.util.List.of(HashAlg.SHA256))) {
                throw new IllegalArgumentException("seal PCRs must be in the sha256 bank only, got " + pcrs);
            }
            PcrValues now = Pcrs.read(tpm, pcrs);
            pcrDigest = now.digest(pcrs, HashAlg.SHA256).orElseThrow(
                    () -> new IllegalStateException("TPM did not return every PCR of " + pcrs));
            authPolicy = policyPcrDigest(pcrs, pcrDigest);
        } else {
            attributes |= ObjectAttributes.USER_WITH_AUTH;
        }
        byte[] template = new TpmWriter().u16(ALG_KEYEDHASH).u16(HashAlg.SHA256.algId()).u32(attributes)
                .sized(authPolicy).u16(ALG_NULL).sized(new byte[0]).toBytes();
        try (TpmKey parent = StorageParent.load(tpm)) {
            CreateResponse r = tpm.tss().Create(parent.handle(), new TPMS_SENSITIVE_CREATE(new byte[0], secret),
                    TPMT_PUBLIC.fromBytes(template), new byte[0], new TPMS_PCR_SELECTION[0]);
            return new SealedBlob(r.outPublic.toBytes(), r.outPrivate.buffer, policy ? pcrs : null, pcrDigest);
        }
    }

    /**
     * Loads the object under this TPM's storage parent and unseals it. Fails with {@link UnsealException.Reason#OTHER_TPM}
     * when the blob was made by another TPM (or the owner hierarchy was cleared since), with
     * {@link UnsealException.Reason#PCRS_CHANGED} when a PCR of its policy no longer holds the sealed value.
     */
    public static byte[] unseal(Tpm2 tpm, SealedBlob blob) throws UnsealException {
        TPM_HANDLE object = null;
        TPM_HANDLE session = null;
        // Expected refusals are read from the response code (_allowErrors), so TSS.Java does not print them.
        try (TpmKey parent = StorageParent.load(tpm)) {
            TPMT_PUBLIC pub;
            try {
                pub = TPMT_PUBLIC.fromBytes(blob.pub());
            } catch (RuntimeException e) {
                throw new UnsealException(UnsealException.Reason.DAMAGED, "sealed object unreadable: " + e.getMessage(), e);
            }
            object = tpm.tss()._allowErrors().Load(parent.handle(), new TPM2B_PRIVATE(blob.priv()), pub);
            TPM_RC rc = tpm.tss()._getLastResponseCode();
            if (!tpm.tss()._lastCommandSucceeded()) {
                object = null;
                if (TPM_RC.INTEGRITY.equals(rc) || TPM_RC.HMAC.equals(rc)) {
                    throw new UnsealException(UnsealException.Reason.OTHER_TPM, "the sealed object does not load under "
                            + "the storage key of the TPM at " + tpm.describe() + " (TPM_RC_" + rc + "): it was "
                            + "sealed to another TPM, or this TPM's owner hierarchy was cleared since", null);
                }
                throw new UnsealException(UnsealException.Reason.TPM_ERROR, "TPM at " + tpm.describe()
                        + " refused to load the sealed object: TPM_RC_" + rc, null);
            }
            if (blob.pcrs().isEmpty()) {
                return unsealWith(tpm, object, null, null);
            }
            PcrSelection pcrs = blob.pcrs().get();
            byte[] nonce = new byte[32];
            RANDOM.nextBytes(nonce);
            session = tpm.tss().StartAuthSession(TPM_HANDLE.NULL, TPM_HANDLE.NULL, nonce, new byte[0], TPM_SE.POLICY,
                    TPMT_SYM_DEF.nullObject(), TPM_ALG_ID.SHA256).handle;
            tpm.tss()._allowErrors().PolicyPCR(session, blob.pcrDigest(), Pcrs.toTss(pcrs));
            if (!tpm.tss()._lastCommandSucceeded()) {
                TPM_RC prc = tpm.tss()._getLastResponseCode();
                if (TPM_RC.VALUE.equals(prc)) {
                    throw new UnsealException(UnsealException.Reason.PCRS_CHANGED, "PCRs " + pcrs + " of the TPM at "
                            + tpm.describe() + " no longer hold the values the secret was sealed to: the machine "
                            + "booted something else (firmware, boot loader, kernel or Secure Boot state changed)", null);
                }
                throw new UnsealException(UnsealException.Reason.TPM_ERROR, "PolicyPCR failed on the TPM at "
                        + tpm.describe() + ": TPM_RC_" + prc, null);
            }
            return unsealWith(tpm, object, session, pcrs);
        } catch (TpmException e) {
            throw new UnsealException(UnsealException.Reason.TPM_ERROR, "TPM at " + tpm.describe() + ": " + e.getMessage(), e);
        } finally {
            tpm.flush(session);
            tpm.flush(object);
        }
    }

    private static byte[] unsealWith(Tpm2 tpm, TPM_HANDLE object, TPM_HANDLE session, PcrSelection pcrs)
            throws UnsealException {
        byte[] out = session == null ? tpm.tss()._allowErrors().Unseal(object)
                : tpm.tss()._withSession(session)._allowErrors().Unseal(object);
        if (tpm.tss()._lastCommandSucceeded() && out != null) {
            return out;
        }
        TPM_RC rc = tpm.tss()._getLastResponseCode();
        if (TPM_RC.POLICY_FAIL.equals(rc) || TPM_RC.PCR_CHANGED.equals(rc)) {
            throw new UnsealException(UnsealException.Reason.PCRS_CHANGED, "the TPM at " + tpm.describe()
                    + " refused to unseal: its PCRs " + pcrs + " do not match the policy (TPM_RC_" + rc + ")", null);
        }
        throw new UnsealException(UnsealException.Reason.TPM_ERROR, "TPM at " + tpm.describe()
                + " refused to unseal: TPM_RC_" + rc, null);
    }

    /** TPM2_PolicyPCR's policy digest from an empty policy: H(0…0 ‖ TPM_CC_PolicyPCR ‖ TPML_PCR_SELECTION ‖ pcrDigest). */
    static byte[] policyPcrDigest(PcrSelection pcrs, byte[] pcrDigest) {
        TpmWriter sel = new TpmWriter();
        pcrs.write(sel);
        return HashAlg.SHA256.digest(new byte[32], new TpmWriter().u32(TPM_CC_POLICY_PCR).toBytes(), sel.toBytes(),
                pcrDigest);
    }

}
