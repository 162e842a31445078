package dev.outpost.tpm.eventlog;

import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

import dev.outpost.tpm.HashAlg;

/**
 * PCR values a log replays to, per bank. Only PCRs that received at least one extend in a bank appear in it:
 * a PCR the log never touched says nothing about the machine.
 */
public final class ReplayResult {
    private final Map<HashAlg, SortedMap<Integer, byte[]>> banks;
    private final List<Integer> skippedAlgorithms;
    private final int startupLocality;

    ReplayResult(Map<HashAlg, SortedMap<Integer, byte[]>> banks, List<Integer> skippedAlgorithms,
                 int startupLocality) {
        Map<HashAlg, SortedMap<Integer, byte[]>> copy = new EnumMap<>(HashAlg.class);
        banks.forEach((alg, pcrs) -> copy.put(alg, Collections.unmodifiableSortedMap(new TreeMap<>(pcrs))));
        this.banks = Collections.unmodifiableMap(copy);
        this.skippedAlgorithms = List.copyOf(skippedAlgorithms);
        this.startupLocality = startupLocality;
    }

    /** Banks with at least one extend, in TPM_ALG_ID order. */
    public Set<HashAlg> banks() {
        return banks.keySet();
    }

    /** PCR index → value for one bank, touched PCRs only; empty for a bank the log does not have. */
    public SortedMap<Integer, byte[]> pcrs(HashAlg bank) {
        SortedMap<Integer, byte[]> m = banks.get(bank);
        if (m == null) {
            return Collections.emptySortedMap();
        }
        SortedMap<Integer, byte[]> out = new TreeMap<>();
        m.forEach((k, v) -> out.put(k, v.clone()));
        return out;
    }

    /** Which PCRs the log extended in this bank. */
    public Set<Integer> touched(HashAlg bank) {
        SortedMap<Integer, byte[]> m = banks.get(bank);
        return m == null ? Set.of() : Collections.unmodifiableSet(m.keySet());
    }

    /** Algorithm ids declared by the log but not replayed because their hash is unknown here. */
    public List<Integer> skippedAlgorithms() {
        return skippedAlgorithms;
    }

    /** Locality from a StartupLocality event that seeded PCR 0, or 0 when there was none. */
    public int startupLocality() {
        return startupLocality;
    }
}
