package dev.outpost.ima.replay;

import java.util.Arrays;
import java.util.Optional;

import dev.outpost.ima.list.ImaEntry;
import dev.outpost.tpm.HashAlg;

/**
 * The running value of one PCR bank while entries are replayed, kept for both ways a kernel may have extended
 * that bank. A violation extends all-ones of the bank's size. Not thread-safe.
 */
public final class PcrReplay {
    private final HashAlg bank;
    private final HashAlg logHashAlg;
    private final HashAlg.Hasher hasher;
    private final byte[] ones;
    private byte[] nativeValue;
    private byte[] paddedValue;

    /**
     * @param bank       the quoted bank
     * @param logHashAlg algorithm of the list's template-hash column (SHA-1 for binary_runtime_measurements)
     */
    public PcrReplay(HashAlg bank, HashAlg logHashAlg) {
        this(bank, logHashAlg, new byte[bank.digestSize()], new byte[bank.digestSize()]);
    }

    public PcrReplay(HashAlg bank, HashAlg logHashAlg, byte[] nativeValue, byte[] paddedValue) {
        this.bank = bank;
        this.logHashAlg = logHashAlg;
        this.hasher = bank.newHasher();
        this.ones = new byte[bank.digestSize()];
        Arrays.fill(ones, (byte) 0xff);
        this.nativeValue = check(nativeValue);
        this.paddedValue = hasPaddedVariant() ? check(paddedValue) : null;
    }

    private byte[] check(byte[] v) {
        if (v == null || v.length != bank.digestSize()) {
            throw new IllegalArgumentException("PCR value must be " + bank.digestSize() + " bytes for " + bank);
        }
        return v.clone();
    }

    /** The zero-padded variant only differs when the bank is not the log's own template-hash bank. */
    private boolean hasPaddedVariant() {
        return bank != logHashAlg && logHashAlg == HashAlg.SHA1;
    }

    public HashAlg bank() {
        return bank;
    }

    public void extend(ImaEntry e) {
        boolean violation = e.isViolation();
        byte[] measurement;
        if (violation) {
            measurement = ones;
        } else if (bank == logHashAlg) {
            measurement = e.templateHash();
        } else {
            hasher.update(e.templateData(), 0, e.templateData().length);
            measurement = hasher.digest();
        }
        nativeValue = ext(nativeValue, measurement);
        if (paddedValue != null) {
            paddedValue = ext(paddedValue, violation ? ones : Arrays.copyOf(e.templateHash(), bank.digestSize()));
        }
    }

    private byte[] ext(byte[] pcr, byte[] m) {
        hasher.update(pcr, 0, pcr.length);
        hasher.update(m, 0, m.length);
        return hasher.digest();
    }

    public byte[] value(ReplayVariant v) {
        byte[] x = v == ReplayVariant.NATIVE ? nativeValue : paddedValue;
        return x == null ? nativeValue.clone() : x.clone();
    }

    /** Which variant, if any, equals the quoted value. */
    public Optional<ReplayVariant> matches(byte[] quoted) {
        if (Arrays.equals(nativeValue, quoted)) {
            return Optional.of(ReplayVariant.NATIVE);
        }
        if (paddedValue != null && Arrays.equals(paddedValue, quoted)) {
            return Optional.of(ReplayVariant.SHA1_PADDED);
        }
        return Optional.empty();
    }
}
