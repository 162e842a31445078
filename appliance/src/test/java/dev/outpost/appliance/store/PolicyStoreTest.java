package dev.outpost.appliance.store;

import static dev.outpost.appliance.store.StoreFixtures.T0;
import static dev.outpost.appliance.store.StoreFixtures.device;
import static dev.outpost.appliance.store.StoreFixtures.id;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneOffset;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which policy applies is cached; every operator change must show at once, never an answer from before it. */
class PolicyStoreTest {
    @TempDir
    Path dir;
    Database db;
    PolicyStore store;

    @BeforeEach
    void open() {
        db = Database.open(dir);
        new DeviceStore(db, Clock.fixed(T0, ZoneOffset.UTC)).upsertEnrolled(device(1));
        store = new PolicyStore(db, Clock.fixed(T0, ZoneOffset.UTC));
    }

    @AfterEach
    void close() {
        db.close();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void resolutionFollowsLabelsAssignmentsAndReplacedPolicies() {
        assertThat(store.resolve(id(1), PolicyStore.Kind.RUNTIME)).isEmpty();

        store.put("by-label", PolicyStore.Kind.RUNTIME, bytes("{\"a\":1}"));
        store.assign("label:line-1", "by-label");
        assertThat(store.resolve(id(1), PolicyStore.Kind.RUNTIME)).as("no label yet").isEmpty();

        store.label(id(1), "line-1");
        assertThat(store.resolve(id(1), PolicyStore.Kind.RUNTIME)).contains("by-label");
        assertThat(store.resolve(id(1), PolicyStore.Kind.BOOT)).isEmpty();

        store.put("own", PolicyStore.Kind.RUNTIME, bytes("{\"b\":2}"));
        store.assign("device:" + id(1), "own");
        assertThat(store.resolve(id(1), PolicyStore.Kind.RUNTIME)).as("the device's own wins").contains("own");

        String before = store.get("own").orElseThrow().sha256();
        store.put("own", PolicyStore.Kind.RUNTIME, bytes("{\"b\":3}"));
        assertThat(store.get("own").orElseThrow().sha256()).isNotEqualTo(before);
        assertThat(new String(store.get("own").orElseThrow().content(), StandardCharsets.UTF_8)).isEqualTo("{\"b\":3}");
        assertThat(store.get("absent")).isEmpty();
    }
    /** Readers racing an operator's assignments: once an assignment returned, no read begun after it finds the old one. */
    @Test
    void noResolutionBegunAfterAnAssignmentReturnedFindsTheOneBefore() throws Exception {
        store.put("p0", PolicyStore.Kind.RUNTIME, bytes("{\"a\":0}"));
        store.put("p1", PolicyStore.Kind.RUNTIME, bytes("{\"a\":1}"));
        store.assign("device:" + id(1), "p0");
        java.util.concurrent.atomic.AtomicReference<String> assigned = new java.util.concurrent.atomic.AtomicReference<>("p0");
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicReference<String> wrong = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicInteger round = new java.util.concurrent.atomic.AtomicInteger();
        java.util.List<Thread> readers = new java.util.ArrayList<>();
        for (int r = 0; r < 3; r++) {
            Thread t = new Thread(() -> {
                while (!done.get() && wrong.get() == null) {
                    // odd: an assignment is under way, and either answer is right
                    int before = round.get();
                    if (before % 2 == 1) {
                        continue;
                    }
                    String expected = assigned.get();
                    String seen = store.resolve(id(1), PolicyStore.Kind.RUNTIME).orElse(null);
                    if (!expected.equals(seen) && round.get() == before) {
                        wrong.set("resolved " + seen + " after the assignment of " + expected + " returned");
                    }
                }
            });
            t.start();
            readers.add(t);
        }
        try {
            for (int i = 1; i <= 300 && wrong.get() == null; i++) {
                String name = "p" + (i % 2);
                round.incrementAndGet();
                store.assign("device:" + id(1), name);
                assigned.set(name);
                round.incrementAndGet();
            }
        } finally {
            done.set(true);
            for (Thread t : readers) {
                t.join();
            }
        }
        assertThat(wrong.get()).isNull();
    }
}
