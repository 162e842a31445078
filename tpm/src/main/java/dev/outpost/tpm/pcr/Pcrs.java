package dev.outpost.tpm.pcr;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.wire.PcrSelection;
import dev.outpost.tpm.wire.PcrValues;
import tss.tpm.PCR_ReadResponse;
import tss.tpm.TPMS_PCR_SELECTION;
import tss.tpm.TPMT_HA;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_HANDLE;

/** Reads and extends PCRs. */
public final class Pcrs {
    private Pcrs() {
    }

    /** Reads every PCR of the selection; TPM2_PCR_Read returns at most eight values a call, so this loops. */
    public static PcrValues read(Tpm2 tpm, PcrSelection selection) {
        PcrValues out = new PcrValues();
        Map<HashAlg, Set<Integer>> left = new LinkedHashMap<>();
        for (HashAlg b : selection.banks()) {
            left.put(b, new TreeSet<>(selection.pcrs(b)));
        }
        while (left.values().stream().anyMatch(s -> !s.isEmpty())) {
            PcrSelection ask = PcrSelection.of(left);
            PCR_ReadResponse r = tpm.tss().PCR_Read(toTss(ask));
            int k = 0;
            int got = 0;
            for (TPMS_PCR_SELECTION s : r.pcrSelectionOut) {
                HashAlg bank = HashAlg.fromAlgId(s.hash.toInt()).orElseThrow();
                for (int bit = 0; bit < s.pcrSelect.length * 8; bit++) {
                    if ((s.pcrSelect[bit / 8] & (1 << (bit % 8))) != 0) {
                        out.put(bank, bit, r.pcrValues[k++].buffer);
                        left.get(bank).remove(bit);
                        got++;
                    }
                }
            }
            if (got == 0) {
                throw new IllegalStateException("TPM returned none of " + ask + ": bank not active?");
            }
        }
        return out;
    }

    public static TPMS_PCR_SELECTION[] toTss(PcrSelection selection) {
        List<TPMS_PCR_SELECTION> list = new ArrayList<>();
        for (HashAlg b : selection.banks()) {
            list.add(new TPMS_PCR_SELECTION(TPM_ALG_ID.fromInt(b.algId()), selection.bitmap(b)));
        }
        return list.toArray(new TPMS_PCR_SELECTION[0]);
    }

    /** Extends one PCR in several banks at once with a digest per bank. */
    public static void extend(Tpm2 tpm, int pcr, Map<HashAlg, byte[]> digests) {
        TPMT_HA[] has = digests.entrySet().stream()
                .map(e -> new TPMT_HA(TPM_ALG_ID.fromInt(e.getKey().algId()), e.getValue()))
                .toArray(TPMT_HA[]::new);
        tpm.tss().PCR_Extend(TPM_HANDLE.pcr(pcr), has);
    }
}
