package dev.outpost.auditchain;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Recomputes one chain from its base, fed the stored rows in seq order a page at a time, and names what breaks it.
 * Pure: no database, so central (over the records it received) and the tests use it as the appliance does.
 *
 * <p>At the first break it tells the kinds apart by what the neighbours still say: a jump in seq is a removal; a row
 * whose fields no longer hash to its stored hash is a modification, unless its fields hash right at another row's
 * place (a reorder); a row whose prev is a later row's hash was moved before it (a reorder); a self-consistent row
 * that the next row skips (the next row links to the one before it) was inserted. After a break the walk re-synchronises
 * on the stored hash and goes on, so every break is listed (up to {@link #MAX_PROBLEMS}).
 */
public final class ChainWalk {
    public static final int MAX_PROBLEMS = 20;
    static final int LOOKAHEAD = 16;
    private static final HexFormat HEX = HexFormat.of();

    /** TAIL_CUT, CHECKPOINT and TPM come from the verifiers around the walk (the appliance's AuditVerifier, central's
     * chain check): records cut back before a checkpoint, a checkpoint that does not verify, a TPM whose index is
     * beyond the table. */
    public enum Kind { MODIFIED, REMOVED, REORDERED, INSERTED, HEAD, TAIL_CUT, CHECKPOINT, TPM }

    /** One break: what, at which seq, the audit row id where there is one (0 where the row is gone). */
    public record Problem(String chain, Kind kind, long seq, long auditId, String message) {
    }

    private final String chain;
    private final long baseSeq;
    private long seq;
    private byte[] hash;
    private byte[] hashBefore; // the link hash two back, to recognise an insertion
    private byte[] alsoAccept; // after a row named inserted: the next row may link around it
    private long rows;
    private final boolean gapsAllowed;
    private long gaps;
    private long gapRuns;
    private final List<Problem> problems = new ArrayList<>();
    private final Map<Long, byte[]> wanted = new HashMap<>();

    /**
     * @param wantedSeqs seqs whose verified hash the caller needs afterwards (checkpoint heads)
     */
    public ChainWalk(boolean lasting, long baseSeq, byte[] baseHash, Iterable<Long> wantedSeqs) {
        this(lasting, baseSeq, baseHash, wantedSeqs, false);
    }

    /**
     * @param gapsAllowed a copy that may legitimately miss records (central's routine chain, coalesced at the site's
     *                    outbox): a jump in seq is counted as a gap, not named a removal, and the record after it is
     *                    checked only against its own stored hash (what it links to is not held). A record whose
     *                    fields do not hash to its stored hash is still a break.
     */
    public ChainWalk(boolean lasting, long baseSeq, byte[] baseHash, Iterable<Long> wantedSeqs, boolean gapsAllowed) {
        this.chain = lasting ? "lasting" : "routine";
        this.gapsAllowed = gapsAllowed;
        this.baseSeq = baseSeq;
        this.seq = baseSeq;
        this.hash = baseHash;
        for (Long s : wantedSeqs) {
            wanted.put(s, null);
        }
        if (wanted.containsKey(baseSeq)) {
            wanted.put(baseSeq, baseHash);
        }
    }

    /** The next page of rows (seq order; the walk looks ahead within the page to name a reorder or insertion). */
    public void feed(List<ChainRow> page) {
        for (int i = 0; i < page.size(); i++) {
            step(page, i);
        }
    }

    private void step(List<ChainRow> page, int i) {
        ChainRow r = page.get(i);
        ChainLink l = r.link();
        rows++;
        byte[] computed = l.hash();
        boolean selfOk = Arrays.equals(computed, r.storedHash());
        boolean prevOk = Arrays.equals(l.prev(), hash) || (alsoAccept != null && Arrays.equals(l.prev(), alsoAccept));
        alsoAccept = null;
        // ids grow with seq for rows the appliance wrote (the id is taken under the chain lock)
        boolean idOutOfOrder = i + 1 < page.size() && r.id() > page.get(i + 1).id()
                && (i == 0 || page.get(i - 1).id() < page.get(i + 1).id());
        if (l.seq() > seq + 1 && gapsAllowed) {
            gaps += l.seq() - seq - 1;
            gapRuns++;
            if (!selfOk) {
                problem(Kind.MODIFIED, l.seq(), r.id(), "record seq " + l.seq() + " (audit id " + r.id()
                        + ") modified: its fields do not hash to its chain hash");
            }
        } else if (l.seq() != seq + 1) {
            problem(Kind.REMOVED, seq + 1, 0, (l.seq() - seq - 1) + " record(s) removed: seq " + (seq + 1)
                    + (l.seq() - 1 > seq + 1 ? ".." + (l.seq() - 1) : "") + " missing before audit id " + r.id());
        } else if (prevOk && !selfOk) {
            ChainRow at = contentBelongsAt(page, i);
            if (at == null && idOutOfOrder) {
                problem(Kind.INSERTED, l.seq(), r.id(), "record seq " + l.seq() + " (audit id " + r.id()
                        + ") inserted: its fields do not hash to its chain hash and its id is out of order");
            } else if (at != null) {
                problem(Kind.REORDERED, l.seq(), r.id(), "record seq " + l.seq() + " (audit id " + r.id()
                        + ") holds the record of seq " + at.link().seq() + ": records reordered");
            } else {
                problem(Kind.MODIFIED, l.seq(), r.id(), "record seq " + l.seq() + " (audit id " + r.id()
                        + ") modified: its fields do not hash to its chain hash");
            }
        } else if (!prevOk) {
            ChainRow later = laterWithHash(page, i, l.prev());
            if (later != null) {
                problem(Kind.REORDERED, l.seq(), r.id(), "record seq " + l.seq() + " (audit id " + r.id()
                        + ") comes after seq " + later.link().seq() + " (audit id " + later.id() + "): records reordered");
            } else if (idOutOfOrder) {
                problem(Kind.INSERTED, l.seq(), r.id(), "record seq " + l.seq() + " (audit id " + r.id()
                        + ") inserted: it links to no record before it and its id is out of order");
            } else if (hashBefore != null && Arrays.equals(l.prev(), hashBefore)) {
                problem(Kind.INSERTED, seq, 0, "record seq " + seq + " inserted: record seq " + l.seq()
                        + " (audit id " + r.id() + ") links to seq " + (seq - 1));
            } else {
                problem(Kind.MODIFIED, seq, 0, "record seq " + seq + " modified with its chain hash: record seq "
                        + l.seq() + " (audit id " + r.id() + ") links to another hash");
            }
        } else if (i + 1 < page.size() && selfOk && !Arrays.equals(page.get(i + 1).link().prev(), computed)
                && Arrays.equals(page.get(i + 1).link().prev(), hash)
                && page.get(i + 1).link().seq() == l.seq() + 1) {
            // a well-formed row the next one skips: someone computed its hash, but the chain goes around it
            problem(Kind.INSERTED, l.seq(), r.id(), "record seq " + l.seq() + " (audit id " + r.id()
                    + ") inserted: the next record links to seq " + seq);
            alsoAccept = hash;
        }
        hashBefore = hash;
        seq = l.seq();
        hash = r.storedHash() == null ? computed : r.storedHash();
        if (wanted.containsKey(seq)) {
            wanted.put(seq, problemsAt(seq) ? null : hash);
        }
    }

    private boolean problemsAt(long s) {
        return problems.stream().anyMatch(p -> p.seq() == s);
    }

    /** A row within reach whose place (seq, prev) the fields of row i hash to: the contents were swapped. */
    private ChainRow contentBelongsAt(List<ChainRow> page, int i) {
        ChainLink l = page.get(i).link();
        for (int j = Math.max(0, i - LOOKAHEAD); j < Math.min(page.size(), i + LOOKAHEAD); j++) {
            if (j == i) {
                continue;
            }
            ChainRow o = page.get(j);
            ChainLink moved = new ChainLink(l.lasting(), o.link().seq(), o.link().prev(), l.at(),
                    l.deviceId(), l.action(), l.decision(), l.reason(), l.detail());
            if (Arrays.equals(moved.hash(), o.storedHash())) {
                return o;
            }
        }
        return null;
    }

    private static ChainRow laterWithHash(List<ChainRow> page, int i, byte[] h) {
        for (int j = i + 1; j < Math.min(page.size(), i + LOOKAHEAD); j++) {
            if (Arrays.equals(page.get(j).storedHash(), h)) {
                return page.get(j);
            }
        }
        return null;
    }

    /** After the last page: does the chain end where audit_chain's head says it does. */
    public void finish(long headSeq, byte[] headHash) {
        if (seq < headSeq) {
            problem(Kind.REMOVED, seq + 1, 0, (headSeq - seq) + " record(s) removed from the end: the chain ends at seq "
                    + seq + ", its head says " + headSeq);
        } else if (seq > headSeq) {
            problem(Kind.INSERTED, headSeq + 1, 0, "records after the head (seq " + headSeq + ") up to seq " + seq
                    + " were added outside the appliance");
        } else if (!Arrays.equals(hash, headHash)) {
            problem(Kind.HEAD, seq, 0, "the head hash " + HEX.formatHex(headHash) + " is not the last record's "
                    + HEX.formatHex(hash));
        }
    }

    private void problem(Kind k, long s, long id, String msg) {
        if (problems.size() < MAX_PROBLEMS) {
            problems.add(new Problem(chain, k, s, id, msg));
        }
    }

    public List<Problem> problems() {
        return problems;
    }

    /** Records missing where gaps are allowed (see the constructor), and in how many runs. */
    public long gaps() {
        return gaps;
    }

    public long gapRuns() {
        return gapRuns;
    }

    public long rows() {
        return rows;
    }

    public long lastSeq() {
        return seq;
    }

    public long baseSeq() {
        return baseSeq;
    }

    /** The verified hash at a wanted seq, or null when the walk did not reach it or it broke there. */
    public byte[] hashAt(long s) {
        return wanted.get(s);
    }
}
