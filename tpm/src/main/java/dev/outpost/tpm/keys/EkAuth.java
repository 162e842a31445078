package dev.outpost.tpm.keys;

import java.security.SecureRandom;

import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.wire.ObjectAttributes;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_HANDLE;
import tss.tpm.TPM_RH;
import tss.tpm.TPM_SE;
import tss.tpm.TPMT_SYM_DEF;

/**
 * The authorisation an EK needs in the USER role (to be a parent, to activate a credential). L-template EKs
 * have no userWithAuth and a PolicySecret(TPM_RH_ENDORSEMENT) policy, so a policy session satisfies them;
 * H-template EKs set userWithAuth, so their empty auth value does.
 */
public final class EkAuth implements AutoCloseable {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Tpm2 tpm;
    private final TPM_HANDLE session;

    private EkAuth(Tpm2 tpm, TPM_HANDLE session) {
        this.tpm = tpm;
        this.session = session;
    }

    public static EkAuth start(Tpm2 tpm, TpmKey ek) {
        if (ek.pub().has(ObjectAttributes.USER_WITH_AUTH)) {
            return new EkAuth(tpm, TPM_HANDLE.pwSession(new byte[0]));
        }
        // Our nonce comes from SecureRandom: TSS.Java's Helpers.RandomBytes is not a secure generator.
        byte[] nonceCaller = new byte[ek.pub().nameAlg().digestSize()];
        RANDOM.nextBytes(nonceCaller);
        TPM_HANDLE s = tpm.tss().StartAuthSession(TPM_HANDLE.NULL, TPM_HANDLE.NULL, nonceCaller, new byte[0],
                TPM_SE.POLICY, TPMT_SYM_DEF.nullObject(), TPM_ALG_ID.fromInt(ek.pub().nameAlg().algId())).handle;
        try {
            tpm.tss().PolicySecret(TPM_HANDLE.from(TPM_RH.ENDORSEMENT), s, new byte[0], new byte[0], new byte[0], 0);
        } catch (RuntimeException e) {
            tpm.flush(s);
            throw e;
        }
        return new EkAuth(tpm, s);
    }

    /** The session handle to pass to TSS.Java's {@code _withSession(s)}. */
    public TPM_HANDLE session() {
        return session;
    }

    @Override
    public void close() {
        if (session.handle != TPM_HANDLE.pwSession(new byte[0]).handle) {
            tpm.flush(session);
        }
    }
}
