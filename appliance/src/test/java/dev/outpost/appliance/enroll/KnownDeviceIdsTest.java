package dev.outpost.appliance.enroll;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.appliance.store.AllowListStore;
import dev.outpost.appliance.store.Database;
import dev.outpost.appliance.store.DeviceRecord;
import dev.outpost.appliance.store.DeviceStore;

/** Which ids count as known for the enrollment capacity kept for them. */
class KnownDeviceIdsTest {
    @Test
    void enrolledAllowListedAndJustTrustedIdsAreKnownUntilTheNextRefreshForgetsTheLast(@TempDir Path dir) {
        Database db = Database.open(dir);
        try {
            DeviceStore devices = new DeviceStore(db);
            AllowListStore allow = new AllowListStore(db);
            String enrolled = "1".repeat(64);
            String allowed = "2".repeat(64);
            String justTrusted = "3".repeat(64);
            devices.upsertEnrolled(DeviceRecord.enrolled(enrolled, new byte[] {1}, null, "L-1", new byte[] {2},
                    "spiffe://t/agent/tpm/" + enrolled, Instant.EPOCH, List.of()));
            allow.add(allowed, AllowListStore.Source.CLI, null);
            KnownDeviceIds known = new KnownDeviceIds(devices, allow);
            assertThat(known.known(enrolled)).as("nothing before the first refresh").isFalse();
            assertThat(known.refresh()).isEqualTo(2);
            known.add(justTrusted);
            assertThat(known.known(enrolled)).isTrue();
            assertThat(known.known(allowed)).isTrue();
            assertThat(known.known(justTrusted)).isTrue();
            assertThat(known.known("4".repeat(64))).isFalse();
            known.refresh();
            assertThat(known.known(justTrusted)).as("never activated: forgotten").isFalse();
        } finally {
            db.close();
        }
    }

    @Test
    void anIdAddedWhileTheStoreIsReadIsNotForgotten() {
        String enrolling = "5".repeat(64);
        KnownDeviceIds[] known = new KnownDeviceIds[1];
        known[0] = new KnownDeviceIds(() -> {
            known[0].add(enrolling); // an EK passes the trust check while the store is being read
            return List.of("1".repeat(64));
        });
        known[0].refresh();
        assertThat(known[0].known(enrolling)).isTrue();
        assertThat(known[0].known("1".repeat(64))).isTrue();
    }
}
