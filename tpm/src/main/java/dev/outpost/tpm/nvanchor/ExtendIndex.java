package dev.outpost.tpm.nvanchor;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;

import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.keys.TpmKey;
import dev.outpost.tpm.quote.AttestResponse;
import dev.outpost.tpm.wire.TpmWriter;
import tss.TpmException;
import tss.tpm.NV_ReadPublicResponse;
import tss.tpm.TPMA_NV;
import tss.tpm.TPMS_NULL_SIG_SCHEME;
import tss.tpm.TPMS_NV_PUBLIC;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_HANDLE;
import tss.tpm.TPM_RC;

/**
 * An NV index of type TPM_NT_EXTEND holding one SHA-256 digest: it survives reboots, and the only way to change it is
 * TPM2_NV_Extend (new = SHA-256(old || data)), so its value commits to every extend since it was defined. Anyone may
 * extend and read it (authValue empty: AUTHWRITE, AUTHREAD); extending junk cannot hide history, it only makes the
 * value irreproducible, which a verifier reports. Deleting it takes the owner hierarchy's authorisation.
 *
 * <p>The attributes are fixed here and checked on an existing index, so a TPM2_NV_Certify of the index names exactly
 * this public area: {@link #name(int)} recomputes it, and a verifier knows from the certified Name that the value
 * could only have been reached by extends.
 */
public final class ExtendIndex {
    /** Documented default: owner range (0x01000000..0x013FFFFF), "a17" for the audit trail of issue 17. */
    public static final int DEFAULT_INDEX = 0x01000A17;
    public static final int SIZE = 32;
    static final int NT_EXTEND = 0x4 << 4;
    static final int ATTRIBUTES = TPMA_NV.AUTHWRITE.toInt() | TPMA_NV.AUTHREAD.toInt() | TPMA_NV.OWNERREAD.toInt()
            | TPMA_NV.NO_DA.toInt() | NT_EXTEND;
    static final int WRITTEN = TPMA_NV.WRITTEN.toInt();
    private static final int ALG_SHA256 = 0x000B;

    private ExtendIndex() {
    }

    /** Checks the range: an owner index, so the owner hierarchy (not the platform) governs it. */
    public static int checkIndex(int index) {
        if (index < 0x01000000 || index > 0x013FFFFF) {
            throw new IllegalArgumentException(String.format("NV index 0x%08x is not in the owner range "
                    + "0x01000000..0x013fffff", index));
        }
        return index;
    }

    /** Defines the index when the TPM lacks it; refuses an index of that number with other attributes. */
    public static void ensure(Tpm2 tpm, int index) {
        checkIndex(index);
        Optional<TPMS_NV_PUBLIC> existing = readPublic(tpm, index);
        if (existing.isPresent()) {
            TPMS_NV_PUBLIC p = existing.get();
            int attrs = p.attributes.toInt() & ~WRITTEN;
            if (attrs != ATTRIBUTES || p.nameAlg.toInt() != ALG_SHA256 || p.dataSize != SIZE
                    || (p.authPolicy != null && p.authPolicy.length != 0)) {
                throw new IllegalStateException(String.format("NV index 0x%08x exists with attributes 0x%08x, "
                        + "size %d: not an audit anchor (want 0x%08x, SHA-256, 32 bytes, no policy); pick another "
                        + "audit.anchorNvIndex or remove it", index, p.attributes.toInt(), p.dataSize, ATTRIBUTES));
            }
            return;
        }
        tpm.tss().NV_DefineSpace(TPM_HANDLE.from(tss.tpm.TPM_RH.OWNER), new byte[0], new TPMS_NV_PUBLIC(
                nv(index), TPM_ALG_ID.SHA256, TPMA_NV.fromInt(ATTRIBUTES), new byte[0], SIZE));
    }

    /** TSS.Java's NV handle takes the index without its handle type byte. */
    static TPM_HANDLE nv(int index) {
        return TPM_HANDLE.NV(index & 0x00FFFFFF);
    }

    static Optional<TPMS_NV_PUBLIC> readPublic(Tpm2 tpm, int index) {
        tpm.tss()._allowErrors();
        NV_ReadPublicResponse r = tpm.tss().NV_ReadPublic(nv(index));
        if (!tpm.tss()._lastCommandSucceeded()) {
            return Optional.empty();
        }
        return Optional.of(r.nvPublic);
    }

    public static void extend(Tpm2 tpm, int index, byte[] data) {
        tpm.tss().NV_Extend(nv(index), nv(index), data);
    }

    /** The current value, or empty before the first extend (an extend index reads as unwritten until then). */
    public static Optional<byte[]> read(Tpm2 tpm, int index) {
        Optional<TPMS_NV_PUBLIC> p = readPublic(tpm, index);
        if (p.isEmpty() || (p.get().attributes.toInt() & WRITTEN) == 0) {
            return Optional.empty();
        }
        try {
            return Optional.of(tpm.tss().NV_Read(nv(index), nv(index), SIZE, 0));
        } catch (TpmException e) {
            if (TPM_RC.NV_UNINITIALIZED.equals(e.ResponseCode)) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** TPM2_NV_Certify of the whole index by the loaded AK, over the verifier's qualifying value. */
    public static NvCertification certify(Tpm2 tpm, TpmKey ak, int index, byte[] qualifyingData) {
        tpm.tss().NV_Certify(ak.handle(), nv(index), nv(index), qualifyingData,
                new TPMS_NULL_SIG_SCHEME(), SIZE, 0);
        byte[][] raw = AttestResponse.split(tpm.lastResponse(), "TPM2_NV_Certify");
        return new NvCertification(raw[0], raw[1]);
    }

    /** The Name of the written index: nameAlg || SHA-256(TPMS_NV_PUBLIC). Pure: what a certification must name. */
    public static byte[] name(int index) {
        byte[] pub = new TpmWriter().u32(index).u16(ALG_SHA256).u32(ATTRIBUTES | WRITTEN).sized(new byte[0])
                .u16(SIZE).toBytes();
        return new TpmWriter().u16(ALG_SHA256).bytes(sha256(pub)).toBytes();
    }

    /** What the TPM computes on TPM2_NV_Extend: SHA-256(old || data); an index never written counts as zeros. */
    public static byte[] extended(byte[] old, byte[] data) {
        MessageDigest d = digest();
        d.update(old == null ? new byte[SIZE] : old);
        d.update(data);
        return d.digest();
    }

    static byte[] sha256(byte[] b) {
        return digest().digest(b);
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
