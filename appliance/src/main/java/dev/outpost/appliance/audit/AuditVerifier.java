package dev.outpost.appliance.audit;

import java.sql.Connection;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import dev.outpost.appliance.store.AuditChainRows;
import dev.outpost.appliance.store.Database;
import dev.outpost.auditchain.ChainRow;
import dev.outpost.auditchain.ChainWalk;
import dev.outpost.auditchain.ChainWalk.Kind;
import dev.outpost.auditchain.ChainWalk.Problem;
import dev.outpost.tpm.nvanchor.ExtendIndex;
import dev.outpost.tpm.nvanchor.NvCertification;
import dev.outpost.tpm.nvanchor.NvCertifyVerifier;

/**
 * {@code audit verify}: recomputes both chains from their bases, checks every checkpoint (the AK's signature over the
 * NV certification, the certified value against the extend sequence recomputed from the checkpoints, the anchored
 * heads against the recomputed chains) and, when it can reach the TPM, that the index holds what the last checkpoint
 * says: a TPM value beyond it means checkpoints (and the records they anchored) were cut off the end.
 */
public final class AuditVerifier {
    static final int PAGE = 1000;
    private static final HexFormat HEX = HexFormat.of();

    /**
     * What was found. {@code chains}: per chain its base (the last pruned seq), head and rows verified;
     * {@code notes}: what a reader should know that is not a failure (pruned prefix, unanchored records, TPM not checked).
     */
    public record Report(List<Map<String, Object>> chains, long unchained, int checkpoints, List<Problem> problems,
                         List<String> notes) {
        public boolean ok() {
            return problems.isEmpty();
        }

        /** The report as {@code audit verify --json} prints it and the admin API answers it. */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("ok", ok());
            m.put("chains", chains);
            m.put("unchained", unchained);
            m.put("checkpoints", checkpoints);
            m.put("problems", problems);
            m.put("notes", notes);
            return m;
        }
    }

    /** The gateway's AK as the TPM join kept it ({@code upstream/ak.pub}, TPM2B_PUBLIC), or null before any join. */
    public static byte[] gatewayAk(java.nio.file.Path upstreamDir) throws java.io.IOException {
        java.nio.file.Path f = upstreamDir.resolve("ak.pub");
        return java.nio.file.Files.exists(f) ? java.nio.file.Files.readAllBytes(f) : null;
    }

    /**
     * @param tpmValue        the TPM index's value now, when verify could read it; null when not checked
     * @param tpmChecked      whether {@code tpmValue} was read (an unwritten index reads as null)
     * @param gatewayAkPublic the gateway's AK (TPM2B_PUBLIC from {@code upstream/ak.pub}) when present, else null
     */
    public static Report verify(Database db, boolean tpmChecked, byte[] tpmValue, byte[] gatewayAkPublic) {
        // one snapshot of the rows, the heads and the checkpoints while the appliance may be appending
        return db.inSnapshot(c -> verify(c, tpmChecked, tpmValue, gatewayAkPublic));
    }

    static Report verify(Connection c, boolean tpmChecked, byte[] tpmValue, byte[] gatewayAk) throws java.sql.SQLException {
        List<Checkpoint> cps = CheckpointStore.all(c);
        List<Problem> problems = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        List<Map<String, Object>> chains = new ArrayList<>();
        ChainWalk[] walks = new ChainWalk[2];
        AuditChainRows.State[] states = new AuditChainRows.State[2];
        for (int i = 0; i < 2; i++) {
            boolean lasting = i == 1;
            AuditChainRows.State st = AuditChainRows.state(c, lasting);
            states[i] = st;
            ChainWalk w = new ChainWalk(lasting, st.baseSeq(), st.baseHash(), cps.stream().map(p -> p.seq(lasting)).toList());
            long after = st.baseSeq();
            while (true) {
                List<ChainRow> page = AuditChainRows.page(c, lasting, after, PAGE);
                if (page.isEmpty()) {
                    break;
                }
                w.feed(page);
                after = page.get(page.size() - 1).link().seq();
            }
            w.finish(st.headSeq(), st.headHash());
            walks[i] = w;
            problems.addAll(w.problems());
            chains.add(Map.of("chain", lasting ? "lasting" : "routine", "baseSeq", st.baseSeq(), "headSeq", st.headSeq(),
                    "read", w.rows()));
            if (st.baseSeq() > 0) {
                notes.add((lasting ? "lasting" : "routine") + " chain: seq 1.." + st.baseSeq() + " pruned by retention "
                        + "(not tampering); verified from the base kept at seq " + st.baseSeq());
            }
        }
        long unchained = AuditChainRows.unchained(c);
        if (unchained > 0) {
            notes.add(unchained + " record(s) from before the chain (V7) are not chained and not verified");
        }
        checkpoints(cps, walks, states, tpmChecked, tpmValue, gatewayAk, problems, notes);
        return new Report(chains, unchained, cps.size(), problems, notes);
    }

    private static void checkpoints(List<Checkpoint> cps, ChainWalk[] walks, AuditChainRows.State[] states,
                                    boolean tpmChecked, byte[] tpmValue, byte[] gatewayAk, List<Problem> problems,
                                    List<String> notes) {
        if (cps.isEmpty()) {
            notes.add("unanchored: no checkpoint in the TPM (audit.anchor: none, or none made yet); the chain shows "
                    + "edits in the middle, not a rewrite of the whole or a cut of the end");
            if (tpmChecked && tpmValue != null) {
                problems.add(new Problem("tpm", Kind.TPM, 0, 0, "the TPM's audit index holds " + HEX.formatHex(tpmValue)
                        + " but the table has no checkpoint: checkpoints were removed"));
            }
            return;
        }
        byte[] prevNv = null;
        byte[] ak = null;
        Checkpoint lastDone = null;
        for (int k = 0; k < cps.size(); k++) {
            Checkpoint p = cps.get(k);
            String name = "checkpoint " + p.id();
            if (p.pending()) {
                if (k != cps.size() - 1) {
                    problems.add(new Problem("checkpoint", Kind.CHECKPOINT, 0, 0, name + " was never certified but later "
                            + "ones exist"));
                } else {
                    notes.add(name + " is pending (interrupted while anchoring; the next anchor completes it)");
                }
            } else {
                NvCertifyVerifier.Result r = NvCertifyVerifier.verify(p.akPublic(), p.nvIndex(), p.qualifying(),
                        new NvCertification(p.attest(), p.signature()));
                if (!r.ok()) {
                    problems.add(new Problem("checkpoint", Kind.CHECKPOINT, 0, 0, name + ": " + r.failure()));
                } else if (!Arrays.equals(r.nvContents(), p.nvValue())) {
                    problems.add(new Problem("checkpoint", Kind.CHECKPOINT, 0, 0, name + ": the TPM certified "
                            + HEX.formatHex(r.nvContents()) + ", the row says " + HEX.formatHex(p.nvValue())));
                }
                if (ak != null && !Arrays.equals(ak, p.akPublic())) {
                    notes.add(name + " is signed by another AK than the checkpoints before it");
                }
                ak = p.akPublic();
                lastDone = p;
            }
            byte[] expected = ExtendIndex.extended(prevNv, p.anchor());
            if (k > 0 && !Arrays.equals(expected, p.nvValue())) {
                problems.add(new Problem("checkpoint", Kind.CHECKPOINT, 0, 0, name + ": its NV value is not the extend "
                        + "of its anchor onto checkpoint " + cps.get(k - 1).id() + "'s: a checkpoint was removed, added "
                        + "or edited before it"));
            } else if (k == 0 && !Arrays.equals(expected, p.nvValue())) {
                notes.add("the first checkpoint kept (" + p.id() + ") does not start from an empty index: earlier "
                        + "anchors of this TPM index are not in this database");
            }
            prevNv = p.nvValue();
            for (int i = 0; i < 2; i++) {
                heads(name, p, i == 1, walks[i], states[i], problems, notes);
            }
        }
        if (gatewayAk != null && ak != null && !Arrays.equals(gatewayAk, ak)) {
            problems.add(new Problem("checkpoint", Kind.CHECKPOINT, 0, 0, "the checkpoints are signed by an AK that is "
                    + "not the gateway's (upstream/ak.pub)"));
        }
        Checkpoint last = cps.get(cps.size() - 1);
        long unanchored = (states[0].headSeq() - last.routineSeq()) + (states[1].headSeq() - last.lastingSeq());
        if (unanchored > 0) {
            notes.add(unanchored + " record(s) after the last checkpoint (" + last.id() + ") are not anchored yet");
        }
        if (!tpmChecked) {
            notes.add("TPM not checked: a cut of the end together with its checkpoints shows only against the TPM's "
                    + "index (run on the gateway with the TPM reachable)");
        } else if (!Arrays.equals(tpmValue, last.nvValue())
                && !(last.pending() && lastDone != null && Arrays.equals(tpmValue, lastDone.nvValue()))) {
            problems.add(new Problem("tpm", Kind.TAIL_CUT, 0, 0, "the TPM's audit index holds "
                    + TpmAnchor.hex(tpmValue) + ", beyond the last checkpoint's " + HEX.formatHex(last.nvValue())
                    + ": checkpoints and the records they anchored were cut off the end (or the index was extended "
                    + "outside the appliance)"));
        }
    }

    private static void heads(String name, Checkpoint p, boolean lasting, ChainWalk w, AuditChainRows.State st,
                              List<Problem> problems, List<String> notes) {
        long seq = p.seq(lasting);
        String chain = lasting ? "lasting" : "routine";
        if (seq < st.baseSeq()) {
            return; // anchored records since pruned: nothing left to compare
        }
        if (seq > w.lastSeq()) {
            problems.add(new Problem(chain, Kind.TAIL_CUT, w.lastSeq() + 1, 0, name + " anchored " + chain + " seq "
                    + seq + " but the chain ends at seq " + w.lastSeq() + ": records " + (w.lastSeq() + 1) + ".." + seq
                    + " were cut off the end"));
            return;
        }
        byte[] h = w.hashAt(seq);
        if (h == null) {
            if (w.problems().stream().noneMatch(x -> x.seq() == seq)) {
                problems.add(new Problem(chain, Kind.MODIFIED, seq, 0, name + " anchored " + chain + " seq " + seq
                        + " but that record does not verify"));
            }
        } else if (!Arrays.equals(h, p.hash(lasting))) {
            problems.add(new Problem(chain, Kind.MODIFIED, seq, 0, name + " anchored " + chain + " seq " + seq + " with "
                    + "hash " + HEX.formatHex(p.hash(lasting)) + "; the record there now hashes to " + HEX.formatHex(h)
                    + ": the history up to it was rewritten"));
        }
    }
}
