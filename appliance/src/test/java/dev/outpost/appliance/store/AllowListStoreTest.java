package dev.outpost.appliance.store;

import static dev.outpost.appliance.store.StoreFixtures.id;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AllowListStoreTest {
    @TempDir
    Path dir;

    @Test
    void addRemoveContainsList() {
        try (Database db = Database.open(dir.resolve("data"))) {
            AllowListStore s = new AllowListStore(db);
            s.add(id(1), AllowListStore.Source.CLI, "bench unit");
            assertThat(s.contains(id(1))).isTrue();
            assertThat(s.contains(id(2))).isFalse();
            assertThat(s.contains("junk")).isFalse();
            assertThat(s.list()).singleElement().satisfies(e -> {
                assertThat(e.source()).isEqualTo(AllowListStore.Source.CLI);
                assertThat(e.note()).isEqualTo("bench unit");
            });
            assertThat(s.remove(id(1))).isTrue();
            assertThat(s.remove(id(1))).isFalse();
            assertThat(s.list()).isEmpty();
        }
    }

    @Test
    void directorySyncMirrorsFilesAndLeavesCliEntries() throws Exception {
        Path allow = Files.createDirectories(dir.resolve("allow"));
        try (Database db = Database.open(dir.resolve("data"))) {
            AllowListStore s = new AllowListStore(db);
            s.add(id(1), AllowListStore.Source.CLI, "by hand");
            Files.createFile(allow.resolve(id(1)));      // also listed by hand: stays cli
            Files.createFile(allow.resolve(id(2)));
            Files.createFile(allow.resolve(id(3)));
            Files.createFile(allow.resolve("README"));
            Files.createFile(allow.resolve(id(0xabcd).toUpperCase()));
            Files.createDirectory(allow.resolve(id(5)));

            assertThat(s.syncDirectory(allow)).isEqualTo(new AllowListStore.SyncResult(2, 0, 3));
            assertThat(s.contains(id(2))).isTrue();
            assertThat(s.contains(id(5))).isFalse();

            Files.delete(allow.resolve(id(2)));
            Files.delete(allow.resolve(id(1)));
            Files.createFile(allow.resolve(id(6)));
            assertThat(s.syncDirectory(allow)).isEqualTo(new AllowListStore.SyncResult(1, 1, 3));
            assertThat(s.list()).extracting(AllowListStore.Entry::ekHash).containsExactly(id(1), id(3), id(6));
            assertThat(s.list().get(0).source()).isEqualTo(AllowListStore.Source.CLI);

            assertThat(s.syncDirectory(allow)).isEqualTo(new AllowListStore.SyncResult(0, 0, 3));

            // the directory gone: its entries are withdrawn, the hand-made one stays
            assertThat(s.syncDirectory(dir.resolve("missing")).removed()).isEqualTo(2);
            assertThat(s.list()).extracting(AllowListStore.Entry::ekHash).containsExactly(id(1));
        }
    }
}
