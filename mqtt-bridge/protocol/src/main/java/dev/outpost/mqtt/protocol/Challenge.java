package dev.outpost.mqtt.protocol;

/**
 * Appliance → device: what to prove, bound to this device and single use.
 *
 * @param nonce        32 random bytes, base64; goes into the quote's extraData
 * @param pcrSelection the PCRs to quote, tpm2-tools form ({@code sha256:0,1,2,3,4,5,6,7,8,9,10})
 * @param imaOffset    the index of the first IMA entry the appliance has not verified yet (0 after a reboot)
 * @param wantBootLog  whether the boot event log must be sent (first attestation, after a reboot)
 * @param maxChunkBytes how many bytes of log one evidence message may carry, so every message fits the limits
 * @param expiresAt    epoch milliseconds after which the nonce is refused
 */
public record Challenge(int v, String nonce, String pcrSelection, long imaOffset, boolean wantBootLog,
        int maxChunkBytes, long expiresAt) implements Messages {
}
