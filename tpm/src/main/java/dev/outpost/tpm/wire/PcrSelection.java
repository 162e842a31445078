package dev.outpost.tpm.wire;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import dev.outpost.tpm.HashAlg;

/**
 * A TPML_PCR_SELECTION: banks in order, each with its PCR indices. The order matters, since a quote's PCR
 * digest covers the values in selection order; equality ignores it (the same PCRs of the same banks).
 */
public final class PcrSelection {
    public static final int MAX_PCR = 23;
    private static final int MAX_BANKS = 16;
    private static final int MAX_SELECT_BYTES = 32;

    private final Map<HashAlg, TreeSet<Integer>> banks;

    private PcrSelection(Map<HashAlg, TreeSet<Integer>> banks) {
        this.banks = banks;
    }

    public static PcrSelection of(Map<HashAlg, ? extends Set<Integer>> selection) {
        Map<HashAlg, TreeSet<Integer>> m = new LinkedHashMap<>();
        selection.forEach((alg, pcrs) -> {
            for (int p : pcrs) {
                if (p < 0 || p > MAX_PCR) {
                    throw new IllegalArgumentException("PCR " + p + " out of range 0.." + MAX_PCR);
                }
            }
            if (!pcrs.isEmpty()) {
                m.computeIfAbsent(alg, a -> new TreeSet<>()).addAll(pcrs);
            }
        });
        return new PcrSelection(m);
    }

    /** Parses the tpm2-tools form {@code sha256:0,1,2,10+sha1:0}. */
    public static PcrSelection parse(String text) {
        Map<HashAlg, Set<Integer>> m = new LinkedHashMap<>();
        for (String part : text.split("\\+")) {
            int colon = part.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("PCR selection '" + part + "': expected BANK:PCR,PCR,...");
            }
            String bank = part.substring(0, colon);
            HashAlg alg = HashAlg.fromName(bank)
                    .orElseThrow(() -> new IllegalArgumentException("unknown PCR bank '" + bank + "'"));
            Set<Integer> pcrs = m.computeIfAbsent(alg, a -> new TreeSet<>());
            for (String n : part.substring(colon + 1).split(",")) {
                try {
                    pcrs.add(Integer.parseInt(n.trim()));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("PCR index '" + n + "' is not a number");
                }
            }
        }
        return of(m);
    }

    /** Reads a marshalled TPML_PCR_SELECTION; PCRs above 23 are rejected (PC Client TPMs have 24). */
    public static PcrSelection read(TpmReader r) throws TpmFormatException {
        int count = r.u32("pcrSelect.count");
        if (count < 0 || count > MAX_BANKS) {
            throw r.error("pcrSelect.count " + Integer.toUnsignedString(count) + " over " + MAX_BANKS);
        }
        Map<HashAlg, TreeSet<Integer>> m = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            int algId = r.u16("pcrSelect.hash");
            HashAlg alg = HashAlg.fromAlgId(algId)
                    .orElseThrow(() -> r.error("unknown PCR bank 0x" + Integer.toHexString(algId)));
            int size = r.u8("pcrSelect.sizeofSelect");
            if (size > MAX_SELECT_BYTES) {
                throw r.error("sizeofSelect " + size + " over " + MAX_SELECT_BYTES);
            }
            byte[] bits = r.bytes(size, "pcrSelect.pcrSelect");
            if (m.containsKey(alg)) {
                throw r.error("bank " + alg + " selected twice");
            }
            TreeSet<Integer> pcrs = new TreeSet<>();
            for (int b = 0; b < size * 8; b++) {
                if ((bits[b / 8] & (1 << (b % 8))) != 0) {
                    if (b > MAX_PCR) {
                        throw r.error("PCR " + b + " selected, above " + MAX_PCR);
                    }
                    pcrs.add(b);
                }
            }
            m.put(alg, pcrs);
        }
        return new PcrSelection(m);
    }

    public void write(TpmWriter w) {
        w.u32(banks.size());
        banks.forEach((alg, pcrs) -> {
            w.u16(alg.algId()).u8(3);
            byte[] bits = new byte[3];
            for (int p : pcrs) {
                bits[p / 8] |= (byte) (1 << (p % 8));
            }
            w.bytes(bits);
        });
    }

    public List<HashAlg> banks() {
        return new ArrayList<>(banks.keySet());
    }

    public Set<Integer> pcrs(HashAlg bank) {
        TreeSet<Integer> s = banks.get(bank);
        return s == null ? Set.of() : Collections.unmodifiableSet(s);
    }

    /** The bitmap of one bank, for TSS.Java's TPMS_PCR_SELECTION. */
    public byte[] bitmap(HashAlg bank) {
        BitSet bs = new BitSet(24);
        pcrs(bank).forEach(bs::set);
        byte[] out = new byte[3];
        byte[] b = bs.toByteArray();
        System.arraycopy(b, 0, out, 0, Math.min(3, b.length));
        return out;
    }

    public int size() {
        return banks.values().stream().mapToInt(Set::size).sum();
    }

    public boolean isEmpty() {
        return size() == 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PcrSelection other && banks.equals(other.banks);
    }

    @Override
    public int hashCode() {
        return banks.hashCode();
    }

    /** tpm2-tools form, e.g. {@code sha256:0,1,2+sha1:0}. */
    @Override
    public String toString() {
        List<String> parts = new ArrayList<>();
        banks.forEach((alg, pcrs) -> {
            List<String> n = new ArrayList<>();
            pcrs.forEach(p -> n.add(Integer.toString(p)));
            parts.add(alg.tpmName() + ":" + String.join(",", n));
        });
        return String.join("+", parts);
    }
}
