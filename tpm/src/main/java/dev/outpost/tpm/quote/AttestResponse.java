package dev.outpost.tpm.quote;

import java.util.Arrays;

import dev.outpost.tpm.wire.TpmFormatException;
import dev.outpost.tpm.wire.TpmReader;

/**
 * The signed output of TPM2_Quote and TPM2_Certify, cut from the raw response: TSS.Java re-marshals what it parsed,
 * and the bytes a verifier checks must be the bytes the TPM signed.
 */
public final class AttestResponse {
    private static final int ST_SESSIONS = 0x8002;

    private AttestResponse() {
    }

    /** Response parameters TPM2B_ATTEST then TPMT_SIGNATURE: returns {TPMS_ATTEST, TPMT_SIGNATURE}. */
    public static byte[][] split(byte[] response, String command) {
        try {
            TpmReader r = new TpmReader(response, command + " response");
            int tag = r.u16("tag");
            r.u32("responseSize");
            int rc = r.u32("responseCode");
            if (rc != 0) {
                throw new IllegalStateException(command + " failed: 0x" + Integer.toHexString(rc));
            }
            int paramEnd = response.length;
            if (tag == ST_SESSIONS) {
                int paramSize = r.u32("parameterSize");
                paramEnd = r.position() + paramSize;
            }
            byte[] attest = r.sized("attest", 4096);
            byte[] sig = Arrays.copyOfRange(response, r.position(), paramEnd);
            return new byte[][] {attest, sig};
        } catch (TpmFormatException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }
}
