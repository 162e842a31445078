package dev.outpost.tpm.nvanchor;

import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Optional;

import dev.outpost.tpm.quote.AttestSignature;
import dev.outpost.tpm.wire.TpmFormatException;
import dev.outpost.tpm.wire.TpmPublic;
import dev.outpost.tpm.wire.TpmReader;
import dev.outpost.tpm.wire.TpmsAttest;
import dev.outpost.tpm.wire.TpmtSignature;

/**
 * Verifies a TPM2_NV_Certify of an audit anchor index in pure Java: the AK's signature over the exact TPMS_ATTEST bytes
 * first; then magic, type (TPM_ST_ATTEST_NV), the qualifying value, that the certified Name is the Name of an
 * {@link ExtendIndex} at the expected handle (so the value came from extends only), the whole 32 bytes from offset 0;
 * returns the certified contents. Stateless, thread-safe; every refusal says why.
 */
public final class NvCertifyVerifier {
    public static final int ST_ATTEST_NV = 0x8014;
    private static final HexFormat HEX = HexFormat.of();

    /** The certified NV contents, or the reason the certification is refused. */
    public record Result(byte[] nvContents, String failure, TpmsAttest.ClockInfo clock) {
        public boolean ok() {
            return failure == null;
        }

        static Result fail(String why) {
            return new Result(null, why, null);
        }
    }

    private NvCertifyVerifier() {
    }

    /**
     * @param akPublic   the AK's TPM2B_PUBLIC
     * @param index      the NV index expected in the certification
     * @param qualifying what extraData must hold
     */
    public static Result verify(byte[] akPublic, int index, byte[] qualifying, NvCertification c) {
        if (akPublic == null || c == null || c.attest() == null || c.signature() == null || qualifying == null) {
            return Result.fail("AK public, attest, signature and qualifying value are required");
        }
        TpmPublic ak;
        TpmtSignature sig;
        try {
            ak = TpmPublic.parseSized(akPublic);
            sig = TpmtSignature.parse(c.signature());
        } catch (TpmFormatException e) {
            return Result.fail("malformed: " + e.getMessage());
        }
        Optional<String> scheme = AttestSignature.schemeProblem(ak.publicKey(), ak, sig);
        if (scheme.isPresent()) {
            return Result.fail(scheme.get());
        }
        if (!AttestSignature.verifies(ak.publicKey(), sig, c.attest())) {
            return Result.fail(sig.schemeName() + " signature does not verify with AK " + HEX.formatHex(ak.name()));
        }
        TpmsAttest a;
        byte[] name;
        int offset;
        byte[] contents;
        try {
            a = TpmsAttest.parse(c.attest());
            if (a.magic() != TpmsAttest.TPM_GENERATED_VALUE) {
                return Result.fail("magic 0x" + Integer.toHexString(a.magic()) + " is not TPM_GENERATED_VALUE");
            }
            if (a.type() != ST_ATTEST_NV) {
                return Result.fail("type 0x" + Integer.toHexString(a.type()) + " is not TPM_ST_ATTEST_NV");
            }
            // the header TpmsAttest read: magic, type, qualifiedSigner, extraData, clockInfo, firmwareVersion
            int header = 4 + 2 + 2 + a.qualifiedSigner().length + 2 + a.extraData().length + 17 + 8;
            TpmReader r = new TpmReader(c.attest(), "TPMS_NV_CERTIFY_INFO");
            r.bytes(header, "header");
            name = r.sized("indexName", 2 + 64);
            offset = r.u16("offset");
            contents = r.sized("nvContents", 1024);
            r.expectEnd();
        } catch (TpmFormatException e) {
            return Result.fail("malformed attest: " + e.getMessage());
        }
        if (!MessageDigest.isEqual(qualifying, a.extraData())) {
            return Result.fail("extraData " + HEX.formatHex(a.extraData()) + " is not the checkpoint's qualifying value");
        }
        byte[] expectedName = ExtendIndex.name(index);
        if (!MessageDigest.isEqual(expectedName, name)) {
            return Result.fail("certified index name " + HEX.formatHex(name) + " is not the audit extend index "
                    + String.format("0x%08x", index) + " (" + HEX.formatHex(expectedName) + ")");
        }
        if (offset != 0 || contents.length != ExtendIndex.SIZE) {
            return Result.fail("certifies " + contents.length + " bytes at offset " + offset + ", not the whole index");
        }
        return new Result(contents, null, a.clockInfo());
    }
}
