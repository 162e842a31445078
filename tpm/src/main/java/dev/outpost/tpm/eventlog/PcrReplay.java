package dev.outpost.tpm.eventlog;

import java.util.EnumMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

import dev.outpost.tpm.HashAlg;

/** Replays a log into the PCR values a TPM would hold: PCR = H(PCR || digest), from zero. */
public final class PcrReplay {
    private PcrReplay() {
    }

    /**
     * Replays every bank the log declares and this code can hash; EV_NO_ACTION records are never extended, and
     * digests of unknown algorithms are skipped (listed in {@link ReplayResult#skippedAlgorithms()}).
     */
    public static ReplayResult replay(EventLog log) {
        Map<HashAlg, SortedMap<Integer, byte[]>> banks = new EnumMap<>(HashAlg.class);
        if (log.format() == EventLog.Format.LEGACY_SHA1) {
            banks.put(HashAlg.SHA1, new TreeMap<>());
        } else {
            for (SpecId.AlgorithmSize a : log.specId().orElseThrow().algorithms()) {
                HashAlg.fromAlgId(a.algId()).ifPresent(alg -> banks.put(alg, new TreeMap<>()));
            }
        }
        int locality = 0;
        for (Event e : log.events()) {
            if (e.rawType() == EventType.EV_NO_ACTION.value()) {
                if (seedsPcr0(e, banks)) {
                    locality = ((EventData.StartupLocality) e.decoded()).locality();
                }
                continue;
            }
            for (EventDigest d : e.digests()) {
                HashAlg alg = d.alg().orElse(null);
                if (alg == null) {
                    continue;
                }
                SortedMap<Integer, byte[]> pcrs = banks.get(alg);
                byte[] old = pcrs.get(e.pcr());
                if (old == null) {
                    old = initial(alg, e.pcr(), locality);
                }
                pcrs.put(e.pcr(), alg.extend(old, d.value()));
            }
        }
        banks.values().removeIf(Map::isEmpty);
        return new ReplayResult(banks, log.unknownAlgorithms(), locality);
    }

    /**
     * TPM2_Startup at locality 3 or 4 resets PCR 0 to 0...03 or 0...04 instead of zero; the firmware records
     * that with this event. Honoured only before PCR 0's first extend, where the spec puts it: later, it cannot
     * describe the reset value any more.
     */
    private static boolean seedsPcr0(Event e, Map<HashAlg, SortedMap<Integer, byte[]>> banks) {
        if (e.pcr() != 0 || !(e.decoded() instanceof EventData.StartupLocality)) {
            return false;
        }
        return banks.values().stream().noneMatch(m -> m.containsKey(0));
    }

    private static byte[] initial(HashAlg alg, int pcr, int locality) {
        byte[] v = new byte[alg.digestSize()];
        if (pcr == 0) {
            v[v.length - 1] = (byte) locality;
        }
        return v;
    }
}
