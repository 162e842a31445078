package dev.outpost.central.audittrail;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.auditchain.ChainLink;
import dev.outpost.auditchain.ChainWalk.Kind;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;

/** Central's check over a site's received audit events: real chain encoding, checkpoints certified by swtpm's AK. */
@ExtendWith(SwtpmExtension.class)
class ChainCheckTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The events as central parses them from site_events (through JSON, as stored). */
    static ReceivedAudit.Received received(SiteTrail t) {
        List<ReceivedAudit.Record> routine = new ArrayList<>();
        List<ReceivedAudit.Record> lasting = new ArrayList<>();
        List<ReceivedAudit.Checkpoint> cps = new ArrayList<>();
        List<String> unreadable = new ArrayList<>();
        long seq = 0;
        for (SiteTrail.Event e : t.events()) {
            seq++;
            JsonNode d = JSON.valueToTree(e.data());
            try {
                if (e.kind().equals("audit.checkpoint")) {
                    cps.add(ReceivedAudit.checkpoint(seq, d));
                } else {
                    ReceivedAudit.Record r = new ReceivedAudit.Record(ReceivedAudit.row(d), seq);
                    (r.row().link().lasting() ? lasting : routine).add(r);
                }
            } catch (IllegalArgumentException x) {
                unreadable.add("event #" + seq + ": " + x.getMessage());
            }
        }
        return new ReceivedAudit.Received(routine, lasting, cps, 0, unreadable);
    }

    private static ChainCheck.Report check(SiteTrail t) {
        return ChainCheck.check("plant-1", received(t), List.of());
    }

    @Test
    void aGoodTrailWithCheckpointsVerifies(Swtpm swtpm) throws Exception {
        try (SiteTrail t = new SiteTrail(swtpm.uri())) {
            t.records(20, 5).checkpoint().records(10, 3).checkpoint().records(2, 1);
            ChainCheck.Report r = ChainCheck.check("plant-1", received(t), List.of(t.akPublic()));
            assertThat(r.problems()).isEmpty();
            assertThat(r.ok()).isTrue();
            assertThat(r.checkpoints()).isEqualTo(2);
            assertThat(r.akCompared()).isTrue();
            assertThat(r.chains()).extracting(m -> m.get("toSeq")).containsExactly(32L, 9L);
            // the join AK of another TPM: refused
            ChainCheck.Report other = ChainCheck.check("plant-1", received(t), List.of(new byte[] {0, 1, 2}));
            assertThat(other.problems()).hasSize(2).allSatisfy(f -> assertThat(f.problem().message())
                    .contains("not the one the site joined with"));
        }
    }

    @Test
    void aModifiedLastingEventIsNamed() throws Exception {
        try (SiteTrail t = new SiteTrail(null)) {
            t.records(10, 6);
            t.audit("lasting", 4).put("reason", "nothing happened");
            ChainCheck.Report r = check(t);
            assertThat(r.ok()).isFalse();
            assertThat(r.problems()).singleElement().satisfies(f -> {
                assertThat(f.problem().kind()).isEqualTo(Kind.MODIFIED);
                assertThat(f.problem().chain()).isEqualTo("lasting");
                assertThat(f.problem().seq()).isEqualTo(4);
                assertThat(f.eventSeq()).isPositive();
                assertThat(f.problem().message()).contains("record seq 4");
            });
            assertThat(r.notes()).anyMatch(n -> n.startsWith("no checkpoint received"));
        }
    }

    @Test
    void aRemovedLastingEventIsARemovalButARoutineGapIsAGap() throws Exception {
        try (SiteTrail t = new SiteTrail(null)) {
            t.records(10, 6).drop("routine", 3).drop("routine", 4).drop("routine", 8);
            ChainCheck.Report gaps = check(t);
            assertThat(gaps.problems()).isEmpty();
            assertThat(gaps.chains().get(0).get("gaps")).isEqualTo(3L);
            assertThat(gaps.notes()).anyMatch(n -> n.contains("3 record(s) in 2 gap(s) coalesced or not yet received"));

            t.drop("lasting", 5);
            ChainCheck.Report removed = check(t);
            assertThat(removed.problems()).singleElement().satisfies(f -> {
                assertThat(f.problem().kind()).isEqualTo(Kind.REMOVED);
                assertThat(f.problem().chain()).isEqualTo("lasting");
                assertThat(f.problem().seq()).isEqualTo(5);
            });
        }
    }

    @Test
    void aRoutineRecordWhoseFieldsDoNotHashIsAnErrorEvenAfterAGap() throws Exception {
        try (SiteTrail t = new SiteTrail(null)) {
            t.records(10, 2).drop("routine", 5);
            t.audit("routine", 6).put("decision", "deny");
            ChainCheck.Report r = check(t);
            assertThat(r.problems()).singleElement().satisfies(f -> {
                assertThat(f.problem().kind()).isEqualTo(Kind.MODIFIED);
                assertThat(f.problem().chain()).isEqualTo("routine");
                assertThat(f.problem().seq()).isEqualTo(6);
            });
        }
    }

    @Test
    void aCopyStartingAfterTheBaseIsVerifiedFromItsFirstPrevAndSaysSo() throws Exception {
        try (SiteTrail t = new SiteTrail(null)) {
            t.records(10, 6);
            for (int s = 1; s <= 3; s++) {
                t.drop("lasting", s).drop("routine", s);
            }
            ChainCheck.Report r = check(t);
            assertThat(r.problems()).isEmpty();
            assertThat(r.chains()).extracting(m -> m.get("fromSeq")).containsExactly(4L, 4L);
            assertThat(r.notes()).anyMatch(n -> n.startsWith("lasting chain: central's first record is seq 4"));
        }
    }

    @Test
    void aBadCheckpointSignatureIsRefused(Swtpm swtpm) throws Exception {
        try (SiteTrail t = new SiteTrail(swtpm.uri())) {
            t.records(5, 2).checkpoint();
            String sig = (String) t.checkpointEvent(1).get("signature");
            char last = sig.charAt(sig.length() - 1);
            t.checkpointEvent(1).put("signature", sig.substring(0, sig.length() - 1) + (last == '0' ? '1' : '0'));
            ChainCheck.Report r = check(t);
            assertThat(r.ok()).isFalse();
            assertThat(r.problems()).singleElement().satisfies(f -> {
                assertThat(f.problem().kind()).isEqualTo(Kind.CHECKPOINT);
                assertThat(f.problem().message()).contains("checkpoint 1").contains("does not verify");
            });
            assertThat(r.notes()).anyMatch(n -> n.startsWith("AK not compared"));
        }
    }

    @Test
    void aRewrittenChainDisagreesWithItsCheckpointAndACutTailIsSeen(Swtpm swtpm) throws Exception {
        try (SiteTrail t = new SiteTrail(swtpm.uri())) {
            t.records(4, 4).checkpoint();
            // rewrite lasting seq 2 and recompute every hash after it: self-consistent, but not what the TPM anchored
            byte[] prev = java.util.HexFormat.of().parseHex((String) t.audit("lasting", 1).get("hash"));
            for (long s = 2; s <= 4; s++) {
                var d = t.audit("lasting", s);
                if (s == 2) {
                    d.put("reason", "rewritten");
                }
                ChainLink l = new ChainLink(true, s, prev, java.time.Instant.parse((String) d.get("at")),
                        (String) d.get("deviceId"), (String) d.get("action"), (String) d.get("decision"),
                        (String) d.get("reason"), (String) d.get("detail"));
                prev = l.hash();
                d.put("prev", java.util.HexFormat.of().formatHex(l.prev()));
                d.put("hash", java.util.HexFormat.of().formatHex(prev));
            }
            ChainCheck.Report r = check(t);
            assertThat(r.problems()).singleElement().satisfies(f -> {
                assertThat(f.problem().kind()).isEqualTo(Kind.MODIFIED);
                assertThat(f.problem().message()).contains("checkpoint 1").contains("anchored lasting seq 4");
            });
        }
        try (SiteTrail t = new SiteTrail(swtpm.uri())) {
            t.records(4, 4).checkpoint().drop("lasting", 4);
            ChainCheck.Report r = check(t);
            assertThat(r.problems()).singleElement().satisfies(f -> assertThat(f.problem().kind()).isEqualTo(Kind.TAIL_CUT));
        }
    }

    @Test
    void anAnchoredRoutineRecordCoalescedIsComparedThroughTheOneAfterIt(Swtpm swtpm) throws Exception {
        try (SiteTrail t = new SiteTrail(swtpm.uri())) {
            t.records(8, 2).checkpoint().records(3, 0).drop("routine", 8);
            ChainCheck.Report ok = check(t);
            assertThat(ok.problems()).isEmpty();
            assertThat(ok.notes()).noneMatch(n -> n.contains("not compared (record not held"));
            // the records after the anchored one rewritten to link elsewhere, every hash recomputed: the walk alone
            // sees a gap and a self-consistent chain; only the checkpoint's head shows the rewrite
            byte[] prev = new byte[32];
            for (long s = 9; s <= 11; s++) {
                var d = t.audit("routine", s);
                ChainLink l = new ChainLink(false, s, prev, java.time.Instant.parse((String) d.get("at")),
                        (String) d.get("deviceId"), (String) d.get("action"), (String) d.get("decision"),
                        (String) d.get("reason"), (String) d.get("detail"));
                prev = l.hash();
                d.put("prev", java.util.HexFormat.of().formatHex(l.prev()));
                d.put("hash", java.util.HexFormat.of().formatHex(prev));
            }
            ChainCheck.Report bad = check(t);
            assertThat(bad.problems()).singleElement().satisfies(f -> {
                assertThat(f.problem().kind()).isEqualTo(Kind.MODIFIED);
                assertThat(f.problem().seq()).isEqualTo(9);
                assertThat(f.problem().message()).contains("anchored routine seq 8").contains("the record after it");
            });
        }
    }

    @Test
    void malformedEventsAreProblemsNotGuesses() throws Exception {
        try (SiteTrail t = new SiteTrail(null)) {
            t.records(3, 3);
            t.audit("lasting", 2).put("prev", "zz");
            t.audit("routine", 2).put("seq", -1);
            ChainCheck.Report r = check(t);
            assertThat(r.problems()).extracting(f -> f.problem().message())
                    .anyMatch(m -> m.contains("prev is not hex"))
                    .anyMatch(m -> m.contains("seq is not a non-negative integer"));
        }
    }
}
