package dev.outpost.ima.verify;

import dev.outpost.tpm.HashAlg;

/** The PCR 10 value a verified quote reported, in the bank the quote selected. */
public record QuotedPcr(HashAlg bank, byte[] value) {
    public QuotedPcr {
        if (value.length != bank.digestSize()) {
            throw new IllegalArgumentException("PCR value has " + value.length + " bytes, " + bank + " needs "
                    + bank.digestSize());
        }
        value = value.clone();
    }
}
