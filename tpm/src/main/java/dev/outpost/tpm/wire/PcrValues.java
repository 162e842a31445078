package dev.outpost.tpm.wire;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import dev.outpost.tpm.HashAlg;

/** PCR values by bank and index, as read from a TPM or a PCR file. */
public final class PcrValues {
    private final Map<HashAlg, TreeMap<Integer, byte[]>> values = new LinkedHashMap<>();

    public PcrValues put(HashAlg bank, int pcr, byte[] value) {
        if (value.length != bank.digestSize()) {
            throw new IllegalArgumentException("PCR " + bank + ":" + pcr + " has " + value.length
                    + " bytes, the bank's digest has " + bank.digestSize());
        }
        values.computeIfAbsent(bank, b -> new TreeMap<>()).put(pcr, value.clone());
        return this;
    }

    public Optional<byte[]> get(HashAlg bank, int pcr) {
        TreeMap<Integer, byte[]> m = values.get(bank);
        byte[] v = m == null ? null : m.get(pcr);
        return Optional.ofNullable(v == null ? null : v.clone());
    }

    public Map<Integer, byte[]> bank(HashAlg bank) {
        TreeMap<Integer, byte[]> m = values.get(bank);
        return m == null ? Map.of() : Collections.unmodifiableMap(m);
    }

    public Iterable<HashAlg> banks() {
        return values.keySet();
    }

    /** The selection these values cover. */
    public PcrSelection selection() {
        Map<HashAlg, java.util.Set<Integer>> m = new LinkedHashMap<>();
        values.forEach((b, v) -> m.put(b, v.keySet()));
        return PcrSelection.of(m);
    }

    /**
     * The quote's pcrDigest for {@code selection}: the hash of the selected values concatenated in selection
     * order. Empty when a selected value is missing.
     */
    public Optional<byte[]> digest(PcrSelection selection, HashAlg hash) {
        HashAlg.Hasher h = hash.newHasher();
        for (HashAlg bank : selection.banks()) {
            for (int pcr : selection.pcrs(bank)) {
                TreeMap<Integer, byte[]> m = values.get(bank);
                byte[] v = m == null ? null : m.get(pcr);
                if (v == null) {
                    return Optional.empty();
                }
                h.update(v, 0, v.length);
            }
        }
        return Optional.of(h.digest());
    }
}
