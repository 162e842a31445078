package dev.outpost.tpm.wire;

/**
 * A parsed TPMS_ATTEST. Quote bodies (TPM_ST_ATTEST_QUOTE) and key certifications (TPM_ST_ATTEST_CERTIFY) are
 * decoded further; other types keep their type so a verifier can refuse them by name.
 *
 * @param certifiedName          TPMS_CERTIFY_INFO.name of a certification: the certified object's Name; else null
 * @param certifiedQualifiedName TPMS_CERTIFY_INFO.qualifiedName of a certification; else null
 */
public record TpmsAttest(
        int magic,
        int type,
        byte[] qualifiedSigner,
        byte[] extraData,
        ClockInfo clockInfo,
        long firmwareVersion,
        PcrSelection pcrSelect,
        byte[] pcrDigest,
        byte[] certifiedName,
        byte[] certifiedQualifiedName) {

    public static final int TPM_GENERATED_VALUE = 0xff544347;
    public static final int ST_ATTEST_QUOTE = 0x8018;
    public static final int ST_ATTEST_CERTIFY = 0x8017;

    private static final int MAX_NAME = 2 + 64;
    private static final int MAX_DATA = 64;
    private static final int MAX_DIGEST = 64;

    /** TPMS_CLOCK_INFO: the TPM's clock and the counters that reveal reboots and resumes. */
    public record ClockInfo(long clock, int resetCount, int restartCount, boolean safe) {
    }

    public static TpmsAttest parse(byte[] bytes) throws TpmFormatException {
        TpmReader r = new TpmReader(bytes, "TPMS_ATTEST");
        int magic = r.u32("magic");
        int type = r.u16("type");
        byte[] signer = r.sized("qualifiedSigner", MAX_NAME);
        byte[] extra = r.sized("extraData", MAX_DATA);
        long clock = r.u64("clockInfo.clock");
        int resets = r.u32("clockInfo.resetCount");
        int restarts = r.u32("clockInfo.restartCount");
        int safe = r.u8("clockInfo.safe");
        if (safe > 1) {
            throw r.error("clockInfo.safe is " + safe + ", not a TPMI_YES_NO");
        }
        long firmware = r.u64("firmwareVersion");
        PcrSelection sel = null;
        byte[] digest = null;
        if (type == ST_ATTEST_QUOTE) {
            sel = PcrSelection.read(r);
            digest = r.sized("pcrDigest", MAX_DIGEST);
            r.expectEnd();
        }
        byte[] name = null;
        byte[] qn = null;
        if (type == ST_ATTEST_CERTIFY) {
            name = r.sized("certifyInfo.name", MAX_NAME);
            qn = r.sized("certifyInfo.qualifiedName", MAX_NAME);
            r.expectEnd();
        }
        return new TpmsAttest(magic, type, signer, extra, new ClockInfo(clock, resets, restarts, safe == 1),
                firmware, sel, digest, name, qn);
    }
}
