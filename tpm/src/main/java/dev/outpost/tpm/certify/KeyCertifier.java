package dev.outpost.tpm.certify;

import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.keys.TpmKey;
import dev.outpost.tpm.quote.AttestResponse;
import tss.tpm.TPMS_NULL_SIG_SCHEME;

/** TPM2_Certify: the AK signs that a loaded key lives in this TPM, with its Name and a verifier's nonce. */
public final class KeyCertifier {
    private KeyCertifier() {
    }

    /**
     * @param key            the loaded key to certify (its admin role is authorised by its empty authValue)
     * @param ak             the loaded attestation key, signing with its own scheme
     * @param qualifyingData the verifier's nonce, returned in TPMS_ATTEST.extraData
     */
    public static Certification certify(Tpm2 tpm, TpmKey key, TpmKey ak, byte[] qualifyingData) {
        tpm.tss().Certify(key.handle(), ak.handle(), qualifyingData, new TPMS_NULL_SIG_SCHEME());
        byte[][] raw = AttestResponse.split(tpm.lastResponse(), "TPM2_Certify");
        return new Certification(key.pub().encodedSized(), raw[0], raw[1]);
    }
}
