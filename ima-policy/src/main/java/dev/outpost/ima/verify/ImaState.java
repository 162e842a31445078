package dev.outpost.ima.verify;

import java.util.List;

import dev.outpost.tpm.HashAlg;

/**
 * What the appliance keeps per device between attestations so it verifies only new entries. Reset (index 0,
 * zero PCR, no learned keys) after a reboot, a bank change or any failure.
 *
 * @param bootId      caller's identity of the boot (boot aggregate, boot count, ...); another value means a reboot
 * @param bank        the bank the running values belong to
 * @param nextIndex   first entry not yet covered by a verified quote
 * @param pcr         running PCR 10 value (bank's own hash of the template data, or the logged hash for its bank)
 * @param paddedPcr   running value of the zero-padded SHA-1 variant of older kernels (equal to pcr for SHA-1)
 * @param learnedKeys keys measured onto .ima by entries before nextIndex, as measured (certificate or SPKI DER)
 * @param violations  violation entries before nextIndex: kept so the count since boot survives incremental checks,
 *                    which see each entry only once
 */
public record ImaState(String bootId, HashAlg bank, long nextIndex, byte[] pcr, byte[] paddedPcr,
        List<byte[]> learnedKeys, long violations) {

    public ImaState {
        if (pcr.length != bank.digestSize() || paddedPcr.length != bank.digestSize() || nextIndex < 0
                || violations < 0 || violations > nextIndex) {
            throw new IllegalArgumentException("inconsistent IMA state");
        }
        pcr = pcr.clone();
        paddedPcr = paddedPcr.clone();
        learnedKeys = List.copyOf(learnedKeys);
    }

    public static ImaState initial(String bootId, HashAlg bank) {
        return new ImaState(bootId, bank, 0, new byte[bank.digestSize()], new byte[bank.digestSize()], List.of(), 0);
    }

    @Override
    public byte[] pcr() {
        return pcr.clone();
    }

    @Override
    public byte[] paddedPcr() {
        return paddedPcr.clone();
    }
}
