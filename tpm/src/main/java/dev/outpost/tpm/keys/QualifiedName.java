package dev.outpost.tpm.keys;

import dev.outpost.tpm.wire.TpmPublic;
import dev.outpost.tpm.wire.TpmWriter;

/**
 * TPM qualified names: a hierarchy's is its handle; a child's is nameAlg || H(parent QN || child Name). A
 * quote names its signer by QN, so a verifier that knows the EK can tell the AK is that EK's child.
 */
public final class QualifiedName {
    public static final int ENDORSEMENT_HIERARCHY = 0x4000000B;

    private QualifiedName() {
    }

    public static byte[] ofHierarchy(int handle) {
        return new TpmWriter().u32(handle).toBytes();
    }

    public static byte[] ofChild(byte[] parentQn, TpmPublic child) {
        byte[] digest = child.nameAlg().digest(parentQn, child.name());
        return new TpmWriter().u16(child.nameAlg().algId()).bytes(digest).toBytes();
    }

    /** QN of an AK created under an EK that is a primary of the endorsement hierarchy. */
    public static byte[] ofAkUnderEk(TpmPublic ek, TpmPublic ak) {
        return ofChild(ofChild(ofHierarchy(ENDORSEMENT_HIERARCHY), ek), ak);
    }
}
