package dev.outpost.tpm.wire;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import dev.outpost.tpm.HashAlg;

/**
 * The PCR file {@code tpm2_quote -o} writes and {@code tpm2_checkquote -f} and Keylime read: tpm2-tools'
 * in-memory structs, little-endian and padded. A TPML_PCR_SELECTION (u32 count, 16 slots of 8 bytes:
 * u16 hash, u8 sizeofSelect, 4 select bytes, 1 pad), a u32 number of digest lists, then that many
 * TPML_DIGEST (u32 count, 8 slots of u16 size + 64 bytes). Values follow selection order.
 */
public final class PcrFile {
    private static final int SELECTION_SLOTS = 16;
    private static final int SELECTION_BYTES = 4 + SELECTION_SLOTS * 8;
    private static final int DIGESTS_PER_LIST = 8;
    private static final int DIGEST_SLOT = 2 + 64;
    private static final int LIST_BYTES = 4 + DIGESTS_PER_LIST * DIGEST_SLOT;
    private static final int MAX_LISTS = 16;

    private PcrFile() {
    }

    public static byte[] write(PcrValues values, PcrSelection selection) {
        List<byte[]> ordered = new ArrayList<>();
        for (HashAlg bank : selection.banks()) {
            for (int pcr : selection.pcrs(bank)) {
                ordered.add(values.get(bank, pcr)
                        .orElseThrow(() -> new IllegalArgumentException("no value for PCR " + bank + ":" + pcr)));
            }
        }
        if (selection.banks().size() > SELECTION_SLOTS) {
            throw new IllegalArgumentException("more than " + SELECTION_SLOTS + " banks");
        }
        int lists = (ordered.size() + DIGESTS_PER_LIST - 1) / DIGESTS_PER_LIST;
        ByteBuffer b = ByteBuffer.allocate(SELECTION_BYTES + 4 + lists * LIST_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(selection.banks().size());
        for (HashAlg bank : selection.banks()) {
            b.putShort((short) bank.algId()).put((byte) 3).put(selection.bitmap(bank)).put((byte) 0).put((byte) 0);
        }
        b.position(SELECTION_BYTES);
        b.putInt(lists);
        for (int l = 0; l < lists; l++) {
            int start = b.position();
            int n = Math.min(DIGESTS_PER_LIST, ordered.size() - l * DIGESTS_PER_LIST);
            b.putInt(n);
            for (int i = 0; i < n; i++) {
                byte[] v = ordered.get(l * DIGESTS_PER_LIST + i);
                b.position(start + 4 + i * DIGEST_SLOT);
                b.putShort((short) v.length).put(v);
            }
            b.position(start + LIST_BYTES);
        }
        return b.array();
    }

    public static PcrValues read(byte[] file) throws TpmFormatException {
        if (file.length < SELECTION_BYTES + 4) {
            throw new TpmFormatException("PCR file: " + file.length + " bytes, too short for a PCR selection");
        }
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int banks = b.getInt();
        if (banks < 0 || banks > SELECTION_SLOTS) {
            throw new TpmFormatException("PCR file at offset 0: " + Integer.toUnsignedString(banks) + " banks");
        }
        Map<HashAlg, Set<Integer>> sel = new LinkedHashMap<>();
        for (int i = 0; i < banks; i++) {
            int off = 4 + i * 8;
            int algId = b.getShort(off) & 0xFFFF;
            HashAlg alg = HashAlg.fromAlgId(algId).orElseThrow(() -> new TpmFormatException(
                    "PCR file at offset " + off + ": unknown bank 0x" + Integer.toHexString(algId)));
            int size = b.get(off + 2) & 0xFF;
            if (size > 4) {
                throw new TpmFormatException("PCR file at offset " + (off + 2) + ": sizeofSelect " + size + " over 4");
            }
            Set<Integer> pcrs = new TreeSet<>();
            for (int bit = 0; bit < size * 8; bit++) {
                if ((b.get(off + 3 + bit / 8) & (1 << (bit % 8))) != 0) {
                    if (bit > PcrSelection.MAX_PCR) {
                        throw new TpmFormatException("PCR file at offset " + off + ": PCR " + bit + " out of range");
                    }
                    pcrs.add(bit);
                }
            }
            if (sel.put(alg, pcrs) != null) {
                throw new TpmFormatException("PCR file at offset " + off + ": bank " + alg + " twice");
            }
        }
        int lists = b.getInt(SELECTION_BYTES);
        if (lists < 0 || lists > MAX_LISTS || file.length != SELECTION_BYTES + 4 + lists * LIST_BYTES) {
            throw new TpmFormatException("PCR file: " + Integer.toUnsignedString(lists) + " digest lists do not fit its "
                    + file.length + " bytes");
        }
        List<byte[]> digests = new ArrayList<>();
        for (int l = 0; l < lists; l++) {
            int start = SELECTION_BYTES + 4 + l * LIST_BYTES;
            int n = b.getInt(start);
            if (n < 0 || n > DIGESTS_PER_LIST) {
                throw new TpmFormatException("PCR file at offset " + start + ": digest count " + n);
            }
            for (int i = 0; i < n; i++) {
                int off = start + 4 + i * DIGEST_SLOT;
                int size = b.getShort(off) & 0xFFFF;
                if (size > 64) {
                    throw new TpmFormatException("PCR file at offset " + off + ": digest size " + size);
                }
                byte[] d = new byte[size];
                b.get(off + 2, d);
                digests.add(d);
            }
        }
        PcrValues values = new PcrValues();
        int k = 0;
        for (Map.Entry<HashAlg, Set<Integer>> e : sel.entrySet()) {
            for (int pcr : e.getValue()) {
                if (k >= digests.size()) {
                    throw new TpmFormatException("PCR file: " + digests.size() + " digests for a selection of more");
                }
                try {
                    values.put(e.getKey(), pcr, digests.get(k++));
                } catch (IllegalArgumentException ex) {
                    throw new TpmFormatException("PCR file: " + ex.getMessage());
                }
            }
        }
        if (k != digests.size()) {
            throw new TpmFormatException("PCR file: " + digests.size() + " digests for a selection of " + k);
        }
        return values;
    }
}
