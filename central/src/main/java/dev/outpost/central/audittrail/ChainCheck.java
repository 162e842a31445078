package dev.outpost.central.audittrail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.outpost.auditchain.ChainRow;
import dev.outpost.auditchain.ChainWalk;
import dev.outpost.auditchain.ChainWalk.Kind;
import dev.outpost.auditchain.ChainWalk.Problem;
import dev.outpost.auditchain.CheckpointAnchor;
import dev.outpost.central.audittrail.ReceivedAudit.Checkpoint;
import dev.outpost.central.audittrail.ReceivedAudit.Received;
import dev.outpost.central.audittrail.ReceivedAudit.Record;
import dev.outpost.tpm.nvanchor.ExtendIndex;
import dev.outpost.tpm.nvanchor.NvCertification;
import dev.outpost.tpm.nvanchor.NvCertifyVerifier;

/**
 * Central's check of a site's audit chains from the events it received (pure: the caller reads them). The same walk
 * as the appliance's {@code audit verify} ({@link ChainWalk}), with what central's copy differs in:
 * <ul>
 *   <li>it may start after the site's base (records sent before, or pruned): each chain is verified from the prev of
 *       the first record central holds, and the report says so;</li>
 *   <li>the routine chain has gaps where the site's outbox coalesced records: a jump in seq is counted as a gap
 *       ("coalesced or not yet received"), not named a removal; a record whose fields do not hash to its stored hash
 *       is still a break. The lasting chain is never coalesced: a jump there is a removal;</li>
 *   <li>there is no head row: the end is checked against the checkpoints (a checkpoint arrives after the records it
 *       anchors, so a lasting record it anchored that central lacks was removed from central's copy).</li>
 * </ul>
 * Checkpoints: the AK's NV certification verifies with the AK public it carries, the certified value is the one sent,
 * the value is the extend of the checkpoint's anchor onto the previous checkpoint's (which binds the heads to the
 * certification), the AK is the one the site joined with when central still knows it, and the heads match the
 * recomputed chains at those seqs where central holds those records.
 */
public final class ChainCheck {
    private static final HexFormat HEX = HexFormat.of();

    /** A break, with central's event seq where a held record is concerned (0 otherwise). */
    public record Finding(Problem problem, long eventSeq) {
    }

    /** @param chains per chain: from/to seq, records, gaps; @param problems anything that fails the check */
    public record Report(String site, List<Map<String, Object>> chains, int checkpoints, boolean akCompared,
                         List<Finding> problems, List<String> notes) {
        public boolean ok() {
            return problems.isEmpty();
        }
    }

    private ChainCheck() {
    }

    /**
     * @param joinAks the AK publics (TPM2B_PUBLIC) central recorded for the site's TPM join, or an empty list when it
     *                does not know them (the AK is then not compared, and the report says so)
     */
    public static Report check(String site, Received r, List<byte[]> joinAks) {
        List<Finding> problems = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        List<Map<String, Object>> chains = new ArrayList<>();
        for (String u : r.unreadable()) {
            problems.add(new Finding(new Problem("event", Kind.MODIFIED, 0, 0, "unreadable audit event " + u), 0));
        }
        if (r.unchained() > 0) {
            notes.add(r.unchained() + " audit event(s) without chain fields (sent before the site chained its audit "
                    + "trail) are not verified");
        }
        List<Checkpoint> cps = new ArrayList<>(r.checkpoints());
        cps.sort(Comparator.comparingLong(Checkpoint::id));
        ChainWalk[] walks = new ChainWalk[2];
        List<Map<Long, Record>> held = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            boolean lasting = i == 1;
            Map<Long, Record> bySeq = new HashMap<>();
            walks[i] = walk(lasting, r.chain(lasting), cps, bySeq, problems, notes, chains);
            held.add(bySeq);
        }
        boolean akCompared = checkpoints(cps, walks, held, joinAks, problems, notes);
        return new Report(site, chains, cps.size(), akCompared, problems, notes);
    }

    private static ChainWalk walk(boolean lasting, List<Record> received, List<Checkpoint> cps, Map<Long, Record> bySeq,
                                  List<Finding> problems, List<String> notes, List<Map<String, Object>> chains) {
        String name = lasting ? "lasting" : "routine";
        List<Record> rows = new ArrayList<>(received);
        rows.sort(Comparator.comparingLong((Record x) -> x.row().link().seq()).thenComparingLong(Record::eventSeq));
        List<ChainRow> page = new ArrayList<>(rows.size());
        for (Record x : rows) {
            long seq = x.row().link().seq();
            Record before = bySeq.putIfAbsent(seq, x);
            if (before != null) {
                problems.add(new Finding(new Problem(name, Kind.INSERTED, seq, x.row().id(), "two records claim " + name
                        + " seq " + seq + " (central events #" + before.eventSeq() + " and #" + x.eventSeq() + ")"),
                        x.eventSeq()));
                continue;
            }
            page.add(x.row());
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("chain", name);
        if (page.isEmpty()) {
            m.put("records", 0);
            chains.add(m);
            notes.add(name + " chain: no record received");
            return null;
        }
        ChainRow first = page.get(0);
        long base = first.link().seq() - 1;
        ChainWalk w = new ChainWalk(lasting, base, first.link().prev(), cps.stream().map(p -> p.seq(lasting)).toList(),
                !lasting);
        w.feed(page);
        for (Problem p : w.problems()) {
            Record at = p.seq() == 0 ? null : bySeq.get(p.seq());
            problems.add(new Finding(p, at == null ? 0 : at.eventSeq()));
        }
        if (base > 0) {
            notes.add(name + " chain: central's first record is seq " + first.link().seq() + " (central event #"
                    + bySeq.get(first.link().seq()).eventSeq() + "); verified from its prev, seq 1.." + base
                    + " not received (sent before central kept them, or pruned)");
        }
        if (!lasting && w.gaps() > 0) {
            notes.add("routine chain: " + w.gaps() + " record(s) in " + w.gapRuns() + " gap(s) coalesced or not yet "
                    + "received (the site's outbox drops superseded routine records at its bound; not tampering)");
        }
        m.put("fromSeq", first.link().seq());
        m.put("toSeq", w.lastSeq());
        m.put("records", w.rows());
        m.put("gaps", w.gaps());
        m.put("verified", w.problems().isEmpty());
        chains.add(m);
        return w;
    }

    private static boolean checkpoints(List<Checkpoint> cps, ChainWalk[] walks, List<Map<Long, Record>> held,
                                       List<byte[]> joinAks, List<Finding> problems, List<String> notes) {
        if (cps.isEmpty()) {
            notes.add("no checkpoint received: the chains are not anchored in the site's TPM (audit.anchor: none, or "
                    + "none made yet); a rewrite of the whole copy would not show");
            return false;
        }
        boolean akCompared = !joinAks.isEmpty();
        if (!akCompared) {
            notes.add("AK not compared: central has no record of the AK the site joined with; the certifications "
                    + "verify with the AK they carry, which says the records were anchored by one TPM, not by which");
        }
        byte[] prevNv = null;
        for (int k = 0; k < cps.size(); k++) {
            Checkpoint p = cps.get(k);
            String name = "checkpoint " + p.id() + " (central event #" + p.eventSeq() + ")";
            NvCertifyVerifier.Result v = NvCertifyVerifier.verify(p.akPublic(), p.nvIndex(), p.qualifying(),
                    new NvCertification(p.attest(), p.signature()));
            if (!v.ok()) {
                bad(problems, p, name + ": " + v.failure());
            } else if (!Arrays.equals(v.nvContents(), p.nvValue())) {
                bad(problems, p, name + ": the TPM certified " + HEX.formatHex(v.nvContents()) + ", the event says "
                        + HEX.formatHex(p.nvValue()));
            }
            if (akCompared && joinAks.stream().noneMatch(a -> Arrays.equals(a, p.akPublic()))) {
                bad(problems, p, name + " is signed by an AK that is not the one the site joined with");
            }
            byte[] anchor = CheckpointAnchor.anchor(p.routineSeq(), p.routineHash(), p.lastingSeq(), p.lastingHash());
            byte[] expected = ExtendIndex.extended(prevNv, anchor);
            if (!Arrays.equals(expected, p.nvValue())) {
                if (k > 0) {
                    bad(problems, p, name + ": its NV value is not the extend of its heads onto checkpoint "
                            + cps.get(k - 1).id() + "'s: a checkpoint was removed, added or edited before it");
                } else {
                    notes.add("the first checkpoint received (" + p.id() + ") does not start from an empty index: "
                            + "its heads are bound to its certification only through the checkpoints after it");
                }
            }
            prevNv = p.nvValue();
            for (int i = 0; i < 2; i++) {
                heads(name, p, i == 1, walks[i], held.get(i), problems, notes);
            }
        }
        return akCompared;
    }

    private static void heads(String name, Checkpoint p, boolean lasting, ChainWalk w, Map<Long, Record> held,
                              List<Finding> problems, List<String> notes) {
        long seq = p.seq(lasting);
        String chain = lasting ? "lasting" : "routine";
        if (seq == 0) {
            return;
        }
        Record r = held.get(seq);
        Record next = held.get(seq + 1);
        if (r == null && next != null && w.problems().stream().noneMatch(x -> x.seq() == seq + 1)) {
            // the anchored record is not held (coalesced, or before central's first), the one after it is: its prev
            // is the anchored hash
            if (!Arrays.equals(next.row().link().prev(), p.hash(lasting))) {
                problems.add(new Finding(new Problem(chain, Kind.MODIFIED, seq + 1, next.row().id(), name + " anchored "
                        + chain + " seq " + seq + " with hash " + HEX.formatHex(p.hash(lasting)) + "; the record after "
                        + "it (event #" + next.eventSeq() + ") links to " + HEX.formatHex(next.row().link().prev())),
                        next.eventSeq()));
            }
            return;
        }
        if (r == null) {
            if (lasting && (w == null || seq > w.lastSeq())) {
                // a checkpoint is sent after the records it anchors, and lasting records are never dropped
                problems.add(new Finding(new Problem(chain, Kind.TAIL_CUT, seq, 0, name + " anchored lasting seq " + seq
                        + " but central's copy ends at seq " + (w == null ? 0 : w.lastSeq())
                        + ": records were removed from the end"), p.eventSeq()));
            } else if (lasting && seq > w.baseSeq()) {
                // inside the walked range: the walk already named the removal
                return;
            } else {
                notes.add(name + ": " + chain + " head seq " + seq + " not compared (record not held at central)");
            }
            return;
        }
        byte[] h = w.hashAt(seq);
        if (h == null) {
            if (w.problems().stream().noneMatch(x -> x.seq() == seq)) {
                problems.add(new Finding(new Problem(chain, Kind.MODIFIED, seq, r.row().id(), name + " anchored " + chain
                        + " seq " + seq + " but that record does not verify"), r.eventSeq()));
            }
        } else if (!Arrays.equals(h, p.hash(lasting))) {
            problems.add(new Finding(new Problem(chain, Kind.MODIFIED, seq, r.row().id(), name + " anchored " + chain
                    + " seq " + seq + " with hash " + HEX.formatHex(p.hash(lasting)) + "; the record central holds "
                    + "there (event #" + r.eventSeq() + ") hashes to " + HEX.formatHex(h)), r.eventSeq()));
        }
    }

    private static void bad(List<Finding> problems, Checkpoint p, String msg) {
        problems.add(new Finding(new Problem("checkpoint", Kind.CHECKPOINT, 0, 0, msg), p.eventSeq()));
    }
}
