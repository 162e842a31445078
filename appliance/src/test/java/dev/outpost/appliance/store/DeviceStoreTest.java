package dev.outpost.appliance.store;

import static dev.outpost.appliance.store.StoreFixtures.T0;
import static dev.outpost.appliance.store.StoreFixtures.device;
import static dev.outpost.appliance.store.StoreFixtures.id;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneOffset;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeviceStoreTest {
    @TempDir
    Path dir;
    Database db;
    DeviceStore store;

    @BeforeEach
    void open() {
        db = Database.open(dir);
        store = new DeviceStore(db, Clock.fixed(T0.plusSeconds(5), ZoneOffset.UTC));
    }

    @AfterEach
    void close() {
        db.close();
    }

    /** A revocation or a state change commits with its audit record, and only a change is recorded. */
    @Test
    void aStateChangeAndARevocationCarryTheirAuditRecord() {
        AuditLog audit = new AuditLog(db);
        store.upsertEnrolled(device(1));
        assertThat(store.setState(id(1), DeviceState.STALE, T0, java.util.List.of("late"), audit,
                AuditEvent.of(T0, id(1), "stale", AuditEvent.Decision.DENY, "late", null))).isTrue();
        assertThat(store.revoke(id(1), "stolen", T0.plusSeconds(1), audit,
                AuditEvent.of(T0.plusSeconds(1), id(1), "revoke", AuditEvent.Decision.DENY, "stolen", "operator"))).isTrue();
        // No change, no record: already revoked, and a revoked device takes no other state.
        assertThat(store.revoke(id(1), "again", T0.plusSeconds(2), audit,
                AuditEvent.of(T0.plusSeconds(2), id(1), "revoke", AuditEvent.Decision.DENY, "again", "operator"))).isFalse();
        assertThat(store.setState(id(1), DeviceState.STALE, T0.plusSeconds(3), java.util.List.of("late"), audit,
                AuditEvent.of(T0.plusSeconds(3), id(1), "stale", AuditEvent.Decision.DENY, "late again", null))).isFalse();
        assertThat(audit.forDevice(id(1), 10)).extracting(AuditEvent::reason).containsExactly("stolen", "late");
        assertThat(store.find(id(1)).orElseThrow().state()).isEqualTo(DeviceState.REVOKED);
    }

    /** An operator's clear commits with its audit record; a revoked device is not cleared and nothing is recorded. */
    @Test
    void aClearCarriesItsAuditRecord() {
        AuditLog audit = new AuditLog(db);
        store.upsertEnrolled(device(1));
        store.upsertEnrolled(device(2));
        assertThat(store.setState(id(1), DeviceState.FAILED, T0)).isTrue();
        assertThat(store.clear(id(1), T0.plusSeconds(1), audit,
                AuditEvent.of(T0.plusSeconds(1), id(1), "clear", AuditEvent.Decision.INFO, "reviewed", "operator"))).isTrue();
        assertThat(store.find(id(1)).orElseThrow().state()).isEqualTo(DeviceState.PENDING);
        assertThat(store.revoke(id(2), "stolen", T0.plusSeconds(2))).isTrue();
        assertThat(store.clear(id(2), T0.plusSeconds(3), audit,
                AuditEvent.of(T0.plusSeconds(3), id(2), "clear", AuditEvent.Decision.INFO, "reviewed", "operator"))).isFalse();
        assertThat(audit.forDevice(id(1), 10)).extracting(AuditEvent::reason).containsExactly("reviewed");
        assertThat(audit.forDevice(id(2), 10)).isEmpty();
        assertThat(store.find(id(2)).orElseThrow().state()).isEqualTo(DeviceState.REVOKED);
    }

    @Test
    void upsertFindListRoundTrip() {
        store.upsertEnrolled(device(2));
        store.upsertEnrolled(device(1));
        DeviceRecord d = store.find(id(1)).orElseThrow();
        assertThat(d.state()).isEqualTo(DeviceState.ENROLLED);
        assertThat(d.ekPublic()).containsExactly(1, 2, 1);
        assertThat(d.ekCertificate()).isNull();
        assertThat(d.akPublic()).containsExactly(3, 4);
        assertThat(d.enrolledAt()).isEqualTo(T0);
        assertThat(d.selectors()).containsExactly("tpm:ek-hash:" + id(1), "outpost:site:a");
        assertThat(store.list()).extracting(DeviceRecord::deviceId).containsExactly(id(1), id(2));
        assertThat(store.find(id(3))).isEmpty();
        assertThat(store.find("not-an-id")).isEmpty();

        // re-enrollment replaces the row
        DeviceRecord again = DeviceRecord.enrolled(id(1), new byte[] {7}, new byte[] {6}, "H-3", new byte[] {5},
                d.spiffeId(), T0.plusSeconds(60), null);
        store.upsertEnrolled(again);
        DeviceRecord r = store.find(id(1)).orElseThrow();
        assertThat(r.ekTemplate()).isEqualTo("H-3");
        assertThat(r.ekCertificate()).containsExactly(6);
        assertThat(r.selectors()).isEmpty();
        assertThat(store.list()).hasSize(2);
    }

    @Test
    void revokeOnceWithReason() {
        store.upsertEnrolled(device(1));
        assertThat(store.revoke(id(1), "EK compromised", T0.plusSeconds(10))).isTrue();
        assertThat(store.revoke(id(1), "again", T0.plusSeconds(11))).isFalse();
        assertThat(store.revoke(id(2), "unknown", T0)).isFalse();
        DeviceRecord d = store.find(id(1)).orElseThrow();
        assertThat(d.state()).isEqualTo(DeviceState.REVOKED);
        assertThat(d.revokedAt()).isEqualTo(T0.plusSeconds(10));
        assertThat(d.revokeReason()).isEqualTo("EK compromised");
        assertThat(store.setState(id(1), DeviceState.TRUSTED, T0)).as("revoked stays revoked").isFalse();
        assertThatThrownBy(() -> store.recordSvid(id(1), "ab", d.spiffeId(), T0, T0.plusSeconds(60)))
                .isInstanceOf(StoreException.class);
        assertThatThrownBy(() -> store.revoke(id(1), " ", T0)).hasMessageContaining("needs a reason");
    }

    @Test
    void recordSvidUpdatesDeviceAndHistoryTogether() {
        store.upsertEnrolled(device(1));
        store.recordSvid(id(1), "0a1b", device(1).spiffeId(), T0, T0.plusSeconds(3600));
        store.recordSvid(id(1), "ff", device(1).spiffeId(), T0.plusSeconds(10), T0.plusSeconds(7200));
        DeviceRecord d = store.find(id(1)).orElseThrow();
        assertThat(d.svidSerial()).isEqualTo("ff");
        assertThat(d.svidNotAfter()).isEqualTo(T0.plusSeconds(7200));
        assertThat(store.svidSerials(id(1), 10)).containsExactlyInAnyOrder("0a1b", "ff");
        // a duplicate serial fails the insert, and the device update in the same transaction is undone
        assertThatThrownBy(() -> store.recordSvid(id(1), "0a1b", device(1).spiffeId(), T0, T0.plusSeconds(99)))
                .isInstanceOf(StoreException.class);
        assertThat(store.find(id(1)).orElseThrow().svidSerial()).isEqualTo("ff");
    }

    @Test
    void stateChanges() {
        store.upsertEnrolled(device(1));
        assertThat(store.setState(id(1), DeviceState.TRUSTED, T0.plusSeconds(1))).isTrue();
        assertThat(store.find(id(1)).orElseThrow().state()).isEqualTo(DeviceState.TRUSTED);
        assertThatThrownBy(() -> store.setState(id(1), DeviceState.REVOKED, T0)).hasMessageContaining("revoke()");
    }

    @Test
    void onlyAClearTakesADeviceOutOfFailed() {
        store.upsertEnrolled(device(1));
        assertThat(store.setState(id(1), DeviceState.FAILED, T0.plusSeconds(1))).isTrue();
        assertThat(store.setState(id(1), DeviceState.TRUSTED, T0.plusSeconds(2))).as("a verdict").isFalse();
        assertThat(store.setState(id(1), DeviceState.STALE, T0.plusSeconds(2))).as("the stale sweep").isFalse();
        assertThat(store.setState(id(1), DeviceState.FAILED, T0.plusSeconds(2))).as("failing again").isTrue();
        assertThat(store.upsertEnrolled(device(1))).as("re-enrollment").isFalse();
        assertThat(store.find(id(1)).orElseThrow().state()).isEqualTo(DeviceState.FAILED);
        assertThat(store.clear(id(1), T0.plusSeconds(3))).isTrue();
        assertThat(store.find(id(1)).orElseThrow().state()).isEqualTo(DeviceState.PENDING);
        assertThat(store.upsertEnrolled(device(1))).isTrue();
        store.revoke(id(1), "stolen", T0.plusSeconds(4));
        assertThat(store.clear(id(1), T0.plusSeconds(5))).as("a revocation is not cleared").isFalse();
        assertThat(store.upsertEnrolled(device(1))).isFalse();
        assertThat(store.find(id(1)).orElseThrow().state()).isEqualTo(DeviceState.REVOKED);
    }

    @Test
    void recordsARealSvid() throws Exception {
        var ca = dev.outpost.appliance.ca.SiteCa.loadOrCreate(dir.resolve("ca"), "site.test", "s", java.time.Duration.ofDays(1), Clock.systemUTC());
        store.upsertEnrolled(device(1));
        var gen = java.security.KeyPairGenerator.getInstance("EC");
        gen.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
        var svid = ca.issueNodeSvid(gen.generateKeyPair().getPublic(), id(1), java.time.Duration.ofHours(1));
        store.recordSvid(id(1), svid);
        DeviceRecord d = store.find(id(1)).orElseThrow();
        assertThat(new java.math.BigInteger(d.svidSerial(), 16)).isEqualTo(svid.certificate().getSerialNumber());
        assertThat(d.svidNotAfter()).isEqualTo(svid.certificate().getNotAfter().toInstant());
        assertThat(store.svidSerials(id(1), 5)).containsExactly(svid.serialHex());
    }
}
