package dev.outpost.appliance.store;

import static dev.outpost.appliance.store.StoreFixtures.T0;
import static dev.outpost.appliance.store.StoreFixtures.device;
import static dev.outpost.appliance.store.StoreFixtures.id;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatabaseTest {
    @TempDir
    Path dir;

    @Test
    void createsTheFileAndMigrates() throws Exception {
        try (Database db = Database.open(dir.resolve("data"))) {
            assertThat(db.file()).isEqualTo(dir.resolve("data/outpost.mv.db"));
            assertThat(Files.exists(db.file())).isTrue();
            assertThat(new BundleStore(db).sequence()).isZero();
            Integer version = db.inTransaction(c -> {
                try (var rs = c.createStatement().executeQuery(
                        "SELECT MAX(CAST(\"version\" AS INT)) FROM \"flyway_schema_history\" WHERE \"success\"")) {
                    rs.next();
                    return rs.getInt(1);
                }
            });
            // the newest migration shipped in the jar, applied (the highest number, not the count: branches that each
            // add a migration are merged, so a number can be missing for a while)
            long shipped;
            try (var files = java.nio.file.Files.list(java.nio.file.Path.of("src/main/resources/db/migration"))) {
                shipped = files.map(f -> f.getFileName().toString()).filter(n -> n.matches("V\\d+__.*\\.sql"))
                        .mapToLong(n -> Long.parseLong(n.substring(1, n.indexOf("__")))).max().orElse(0);
            }
            assertThat(version).isEqualTo((int) shipped);
        }
    }

    @Test
    void rollsBackWhenTheWorkThrows() {
        try (Database db = Database.open(dir)) {
            DeviceStore devices = new DeviceStore(db);
            assertThatThrownBy(() -> db.inTransaction(c -> {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO allow_list VALUES (?, 'cli', 'x', CURRENT_TIMESTAMP)")) {
                    ps.setString(1, id(1));
                    ps.executeUpdate();
                }
                throw new IllegalStateException("boom");
            })).hasMessage("boom");
            assertThat(new AllowListStore(db).contains(id(1))).isFalse();

            // an SQL error half way: the first write is undone too
            assertThatThrownBy(() -> db.inTransaction(c -> {
                c.createStatement().executeUpdate("UPDATE bundle SET sequence = 5");
                c.createStatement().executeUpdate("INSERT INTO nonexistent VALUES (1)");
                return null;
            })).isInstanceOf(StoreException.class).hasMessageContaining("NONEXISTENT");
            assertThat(new BundleStore(db).sequence()).isZero();

            // recordSvid for an unknown device writes nothing
            assertThatThrownBy(() -> devices.recordSvid(id(9), "abcd", "spiffe://site.test/x", T0, T0.plusSeconds(60)))
                    .isInstanceOf(StoreException.class).hasMessageContaining("no enrolled, unrevoked device");
            assertThat(devices.svidSerials(id(9), 10)).isEmpty();
        }
    }

    @Test
    void schemaRefusesMalformedRows() {
        try (Database db = Database.open(dir)) {
            assertThatThrownBy(() -> db.inTransaction(c -> c.createStatement().executeUpdate(
                    "INSERT INTO allow_list VALUES ('" + "A".repeat(64) + "', 'cli', null, CURRENT_TIMESTAMP)")))
                    .hasMessageContaining("ALLOW_LIST_HASH_HEX");
            assertThatThrownBy(() -> db.inTransaction(c -> c.createStatement().executeUpdate(
                    "INSERT INTO allow_list VALUES ('" + id(1) + "', 'web', null, CURRENT_TIMESTAMP)")))
                    .hasMessageContaining("ALLOW_LIST_SOURCE");
            assertThatThrownBy(() -> db.inTransaction(c -> c.createStatement().executeUpdate(
                    "INSERT INTO bundle VALUES (2, 0, CURRENT_TIMESTAMP)")))
                    .hasMessageContaining("BUNDLE_SINGLE_ROW");
            new DeviceStore(db).upsertEnrolled(device(1));
            assertThatThrownBy(() -> db.inTransaction(c -> c.createStatement().executeUpdate(
                    "UPDATE devices SET state = 'revoked'")))
                    .hasMessageContaining("DEVICES_REVOKED_HAS_TIME");
            assertThatThrownBy(() -> db.inTransaction(c -> c.createStatement().executeUpdate(
                    "UPDATE devices SET state = 'lost'")))
                    .hasMessageContaining("DEVICES_STATE");
        }
    }

    @Test
    void compactionRewritesSparseChunksAndKeepsTheData() {
        try (Database db = Database.open(dir)) {
            DeviceStore devices = new DeviceStore(db);
            AuditLog audit = new AuditLog(db);
            // Many small commits, then most of their rows superseded: chunks end up sparsely used.
            for (int round = 0; round < 20; round++) {
                for (int i = 1; i <= 50; i++) {
                    devices.upsertEnrolled(device(i));
                }
            }
            for (int i = 0; i < 200; i++) {
                audit.record(AuditEvent.of(T0, id(1), "x", AuditEvent.Decision.INFO, "r" + i, null));
            }
            int fill = db.compactStep(90, 64 << 20);
            assertThat(fill).isBetween(0, 100);
            assertThat(devices.list()).hasSize(50);
            assertThat(audit.recent(AuditLog.MAX_LIMIT)).hasSize(200);
        }
        try (Database db = Database.open(dir)) {
            assertThat(new DeviceStore(db).list()).hasSize(50);
        }
    }

    @Test
    void reopenAfterCloseKeepsEverything() {
        try (Database db = Database.open(dir)) {
            new DeviceStore(db).upsertEnrolled(device(1));
            new AllowListStore(db).add(id(2), AllowListStore.Source.CLI, "by hand");
            new BundleStore(db).bump();
            new ActivationStore(db).put(StoreFixtures.activation(3, new byte[] {1}));
            new AuditLog(db).record(AuditEvent.of(T0, id(1), "enroll", AuditEvent.Decision.ALLOW, "ok", null));
        }
        try (Database db = Database.open(dir)) {
            assertThat(new DeviceStore(db).find(id(1))).isPresent();
            assertThat(new AllowListStore(db).contains(id(2))).isTrue();
            assertThat(new BundleStore(db).sequence()).isEqualTo(1);
            assertThat(new ActivationStore(db).take(id(3))).isPresent();
            assertThat(new AuditLog(db).forDevice(id(1), 10)).hasSize(1);
        }
    }

    @Test
    void twoOpensInOneJvmShareTheFile() {
        // H2 shares one open database within a JVM; FILE_LOCK keeps other processes out
        try (Database a = Database.open(dir); Database b = Database.open(dir)) {
            new BundleStore(a).bump();
            assertThat(new BundleStore(b).sequence()).isEqualTo(1);
        }
    }
}
