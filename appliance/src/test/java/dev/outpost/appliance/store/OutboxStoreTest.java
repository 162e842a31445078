package dev.outpost.appliance.store;

import static dev.outpost.appliance.store.StoreFixtures.T0;
import static dev.outpost.appliance.store.StoreFixtures.device;
import static dev.outpost.appliance.store.StoreFixtures.id;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The outbox on a real H2 file: written with the change or not at all, bounded by coalescing, pruned once sent. */
class OutboxStoreTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    static List<String> kinds(OutboxStore o) {
        return o.unsent(10_000, Long.MAX_VALUE).stream().map(OutboxStore.Row::kind).toList();
    }

    static JsonNode data(OutboxStore.Row r) throws Exception {
        return JSON.readTree(r.payload());
    }

    @Test
    void theOldestUnsentRowIsReadFromTheIndexNotByScanningTheBacklog() {
        try (Database db = Database.open(dir)) {
            for (int i = 0; i < 500; i++) {
                db.outbox().appendAlone("audit", T0.plusSeconds(i), null, Map.of("n", i));
            }
            String plan = db.inTransaction(c -> {
                try (var st = c.createStatement(); var rs = st.executeQuery(
                        "EXPLAIN ANALYZE SELECT created_at FROM outbox WHERE " + OutboxStore.UNSENT_IN_ORDER + " LIMIT 1")) {
                    rs.next();
                    return rs.getString(1);
                }
            });
            // The backlog's head costs one row, not the whole backlog sorted (what "ORDER BY seq" made H2 do).
            assertThat(plan).contains("scanCount: 1 ").contains("index sorted");
            assertThat(db.outbox().backlog().oldestAt()).isEqualTo(T0);
            assertThat(db.outbox().unsent(3, Long.MAX_VALUE)).extracting(OutboxStore.Row::seq).isSorted().hasSize(3);
        }
    }

    @Test
    void aChangeRolledBackLeavesNoOutboxRow() {
        try (Database db = Database.open(dir)) {
            DeviceStore devices = new DeviceStore(db);
            assertThatThrownBy(() -> db.inTransaction(c -> {
                db.outbox().append(c, "audit", T0, null, Map.of("n", 1));
                throw new IllegalStateException("the change fails after its event was appended");
            })).isInstanceOf(IllegalStateException.class);
            // No device: no change, no event.
            assertThat(devices.setState(id(9), DeviceState.FAILED, T0)).isFalse();
            assertThat(devices.revoke(id(9), "gone", T0)).isFalse();
            OutboxStore.Backlog b = db.outbox().backlog();
            assertThat(b.rows()).isZero();
            assertThat(kinds(db.outbox())).isEmpty();
            // The sequence taken by the rolled-back append is not seen by anyone; the next one follows it.
            assertThat(db.outbox().appendAlone("audit", T0, null, Map.of())).isGreaterThan(0);
        }
    }

    @Test
    void changesCarryTheirEventsAndRoutinePassesDoNot() throws Exception {
        try (Database db = Database.open(dir)) {
            DeviceStore devices = new DeviceStore(db);
            AttestationStore attestations = new AttestationStore(db);
            AuditLog audit = new AuditLog(db);
            assertThat(devices.upsertEnrolled(device(1))).isTrue();
            assertThat(devices.setState(id(1), DeviceState.TRUSTED, T0, List.of("attestation passed"))).isTrue();
            // The same state again is not news.
            assertThat(devices.setState(id(1), DeviceState.TRUSTED, T0.plusSeconds(60))).isTrue();
            AttestationRecord failed = new AttestationRecord(id(1), 1L, 1L, 1L, null, false, null, null, "failed",
                    "pcr 7 changed\nboot policy violated", T0.plusSeconds(120), T0);
            assertThat(attestations.recordVerdict(failed, DeviceState.FAILED, T0.plusSeconds(120))).isTrue();
            audit.record(AuditEvent.of(T0.plusSeconds(121), id(1), "revoke", AuditEvent.Decision.DENY, "by hand", "operator"));
            assertThat(kinds(db.outbox())).containsExactly("device.enrolled", "device.state", "device.state", "audit", "operator");
            List<OutboxStore.Row> rows = db.outbox().unsent(100, Long.MAX_VALUE);
            assertThat(rows).extracting(OutboxStore.Row::seq).isSorted().doesNotHaveDuplicates();
            JsonNode fail = data(rows.get(2));
            assertThat(fail.path("state").asText()).isEqualTo("failed");
            assertThat(fail.path("previous").asText()).isEqualTo("trusted");
            assertThat(fail.path("reasons")).extracting(JsonNode::asText).containsExactly("pcr 7 changed", "boot policy violated");
            assertThat(data(rows.get(0)).path("ekHash").asText()).isEqualTo(id(1));
        }
    }

    @Test
    void atTheBoundTheLatestStateWinsAndNothingElseIsDropped() throws Exception {
        try (Database db = Database.open(dir)) {
            OutboxStore o = db.outbox();
            o.bound(4, Long.MAX_VALUE);
            o.appendAlone("device.revoked", T0, null, Map.of("deviceId", id(1), "reason", "r"));
            for (int i = 0; i < 3; i++) {
                o.appendAlone(OutboxStore.DEVICE_STATE, T0.plusSeconds(i), id(1), Map.of("deviceId", id(1), "state", "s" + i));
                o.appendAlone(OutboxStore.DEVICE_STATE, T0.plusSeconds(i), id(2), Map.of("deviceId", id(2), "state", "s" + i));
                o.appendAlone("audit", T0.plusSeconds(i), null, Map.of("id", i));
            }
            // Past the bound: audit and revocations are still written, never dropped.
            for (int i = 0; i < 5; i++) {
                o.appendAlone("audit", T0.plusSeconds(10 + i), null, Map.of("id", 10 + i));
            }
            o.appendAlone(OutboxStore.DEVICE_STATE, T0.plusSeconds(20), id(1), Map.of("deviceId", id(1), "state", "last"));
            List<OutboxStore.Row> rows = o.unsent(10_000, Long.MAX_VALUE);
            assertThat(rows.stream().filter(r -> r.kind().equals("audit")).count()).isEqualTo(8);
            assertThat(rows.stream().filter(r -> r.kind().equals("device.revoked")).count()).isEqualTo(1);
            List<JsonNode> states = rows.stream().filter(r -> r.kind().equals(OutboxStore.DEVICE_STATE)).map(r -> {
                try {
                    return data(r);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }).toList();
            // One row per device, the latest of each.
            assertThat(states).extracting(n -> n.path("deviceId").asText() + "=" + n.path("state").asText())
                    .containsExactly(id(2) + "=s2", id(1) + "=last");
            OutboxStore.Backlog b = o.backlog();
            assertThat(b.coalesced()).as("s0, s1 of both devices and s2 of device 1").isEqualTo(5);
            assertThat(b.rows()).isEqualTo(rows.size());
            assertThat(b.bytes()).isEqualTo(rows.stream().mapToLong(OutboxStore.Row::size).sum());
            assertThat(b.oldestAt()).isEqualTo(T0);
        }
    }

    /**
     * Past the bound an append searches the whole backlog for superseded rows only when rows were added below the
     * bound since the last search (OutboxBoundBench: 150 ms an append at 100,000 rows otherwise); the rule it keeps
     * stays the same across crossings of the bound either way.
     */
    @Test
    void crossingTheBoundAgainCoalescesWhatPiledUpBelowIt() {
        try (Database db = Database.open(dir)) {
            OutboxStore o = db.outbox();
            o.bound(4, Long.MAX_VALUE);
            for (int i = 0; i < 4; i++) {
                o.appendAlone("audit", T0, null, Map.of("id", i));
            }
            // Past the bound from the first state on: each device keeps its latest only.
            state(o, 1, "a0");
            state(o, 2, "b0");
            state(o, 1, "a1");
            assertThat(states(o)).containsExactly(id(2) + "=b0", id(1) + "=a1");

            // Sent; below the bound every state is kept again, until an append crosses it.
            o.markSent(o.backlog().lastSeq(), T0.plusSeconds(1));
            state(o, 1, "a2");
            state(o, 2, "b2");
            state(o, 1, "a3");
            assertThat(states(o)).hasSize(3);
            o.appendAlone("audit", T0, null, Map.of("id", 4));
            state(o, 2, "b3");
            assertThat(states(o)).as("a2 piled up below the bound, superseded by a3").containsExactly(id(1) + "=a3",
                    id(2) + "=b3");
            assertThat(o.backlog().coalesced()).isEqualTo(3);
        }
    }

    private static void state(OutboxStore o, int device, String state) {
        o.appendAlone(OutboxStore.DEVICE_STATE, T0, id(device), Map.of("deviceId", id(device), "state", state));
    }

    private static List<String> states(OutboxStore o) {
        return o.unsent(10_000, Long.MAX_VALUE).stream().filter(r -> r.kind().equals(OutboxStore.DEVICE_STATE)).map(r -> {
            try {
                JsonNode n = data(r);
                return n.path("deviceId").asText() + "=" + n.path("state").asText();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }).toList();
    }

    @Test
    void belowTheBoundEveryStateIsKept() {
        try (Database db = Database.open(dir)) {
            OutboxStore o = db.outbox();
            for (int i = 0; i < 5; i++) {
                o.appendAlone(OutboxStore.DEVICE_STATE, T0, id(1), Map.of("state", "s" + i));
            }
            assertThat(o.backlog().rows()).isEqualTo(5);
            assertThat(o.backlog().coalesced()).isZero();
        }
    }

    @Test
    void onlyAcknowledgedRowsAreSentAndSentRowsArePrunedAfterRetention() {
        try (Database db = Database.open(dir)) {
            OutboxStore o = db.outbox();
            for (int i = 0; i < 10; i++) {
                o.appendAlone("audit", T0, null, Map.of("id", i));
            }
            assertThat(o.unsent(4, Long.MAX_VALUE)).hasSize(4);
            // The byte budget cuts a batch, but never below one row.
            assertThat(o.unsent(10, 1)).hasSize(1);
            assertThat(o.markSent(6, T0.plusSeconds(10))).isEqualTo(6);
            OutboxStore.Backlog b = o.backlog();
            assertThat(b.rows()).isEqualTo(4);
            assertThat(b.ackedThrough()).isEqualTo(6);
            assertThat(o.unsent(100, Long.MAX_VALUE).get(0).seq()).isEqualTo(7);
            assertThat(o.pruneSent(T0.plusSeconds(10))).isZero();
            assertThat(o.pruneSent(T0.plusSeconds(11))).isEqualTo(6);
            assertThat(o.unsent(100, Long.MAX_VALUE)).hasSize(4);
            // Central restored from an older backup: what is still here goes again.
            o.markSent(10, T0.plusSeconds(20));
            o.rewind(8);
            assertThat(o.unsent(100, Long.MAX_VALUE)).extracting(OutboxStore.Row::seq).containsExactly(9L, 10L);
            assertThat(o.backlog().rows()).isEqualTo(2);
        }
    }

    /**
     * A restored database reused seqs central holds: its rows from the first such seq move after central's, in order,
     * with the rows before them sent; the restore marker goes with the first acknowledgement past it.
     */
    @Test
    void aRestoredOutboxRenumbersAfterCentralAndForgetsTheRestoreOnceSettled() {
        try (Database db = Database.open(dir)) {
            OutboxStore o = db.outbox();
            for (int i = 1; i <= 5; i++) {
                o.appendAlone("audit", T0.plusSeconds(i), null, Map.of("id", i));
            }
            o.markSent(2, T0.plusSeconds(10));
            assertThat(o.backlog().restoredThrough()).isEqualTo(-1);
            OutboxStore.markRestored(db);
            assertThat(o.backlog().restoredThrough()).isEqualTo(5);
            o.markSent(5, T0.plusSeconds(11));
            assertThat(o.backlog().restoredThrough()).as("nothing past the backup's end acknowledged yet").isEqualTo(5);
            for (int i = 6; i <= 8; i++) {
                o.appendAlone("audit", T0.plusSeconds(i), null, Map.of("id", i));
            }

            // Central holds other events under 6..20.
            assertThat(o.rebase(6, 20, T0.plusSeconds(12))).isEqualTo(3);
            assertThat(o.backlog().restoredThrough()).isEqualTo(-1);
            List<OutboxStore.Row> unsent = o.unsent(100, Long.MAX_VALUE);
            assertThat(unsent).extracting(OutboxStore.Row::seq).containsExactly(21L, 22L, 23L);
            assertThat(unsent).extracting(r -> {
                try {
                    return data(r).path("id").asInt();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }).containsExactly(6, 7, 8);
            OutboxStore.Backlog b = o.backlog();
            assertThat(b.ackedThrough()).isEqualTo(20);
            assertThat(b.lastSeq()).isEqualTo(23);
            assertThat(b.rows()).isEqualTo(3);
            assertThat(o.appendAlone("audit", T0.plusSeconds(30), null, Map.of("id", 9))).isEqualTo(24);
            assertThat(o.rowsAfter(0, 100)).extracting(OutboxStore.Row::seq).containsExactly(1L, 2L, 3L, 4L, 5L, 21L, 22L,
                    23L, 24L);

            // Rows before the first reused seq are sent; a rebase past every row still moves the sequence on.
            OutboxStore.markRestored(db);
            assertThat(o.rebase(30, 40, T0.plusSeconds(40))).isZero();
            assertThat(o.backlog().rows()).isZero();
            assertThat(o.appendAlone("audit", T0.plusSeconds(41), null, Map.of("id", 10))).isEqualTo(41);
            OutboxStore.markRestored(db);
            assertThat(o.markSent(41, T0.plusSeconds(42))).isEqualTo(1);
            assertThat(o.backlog().restoredThrough()).as("an acknowledgement at the backup's end settles nothing").isEqualTo(41);
            o.appendAlone("audit", T0.plusSeconds(43), null, Map.of("id", 11));
            o.markSent(42, T0.plusSeconds(44));
            assertThat(o.backlog().restoredThrough()).isEqualTo(-1);
            assertThatThrownBy(() -> o.rebase(5, 4, T0)).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
