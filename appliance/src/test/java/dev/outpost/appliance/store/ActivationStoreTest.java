package dev.outpost.appliance.store;

import static dev.outpost.appliance.store.StoreFixtures.T0;
import static dev.outpost.appliance.store.StoreFixtures.activation;
import static dev.outpost.appliance.store.StoreFixtures.id;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ActivationStoreTest {
    @TempDir
    Path dir;

    @Test
    void putTakeIsSingleUseAndKeepsOnlyTheHash() {
        try (Database db = Database.open(dir)) {
            ActivationStore s = new ActivationStore(db);
            byte[] secret = {1, 2, 3, 4};
            s.put(activation(1, secret));
            PendingActivation a = s.take(id(1)).orElseThrow();
            assertThat(a.matches(secret)).isTrue();
            assertThat(a.matches(new byte[] {1, 2, 3, 5})).isFalse();
            assertThat(a.secretHash()).isNotEqualTo(secret).hasSize(32);
            assertThat(a.ekCertificate()).containsExactly(0x30, 0x82);
            assertThat(a.expired(T0.plusSeconds(119))).isFalse();
            assertThat(a.expired(T0.plusSeconds(120))).isTrue();
            assertThat(s.take(id(1))).isEmpty();
            assertThat(s.take("junk")).isEmpty();
        }
    }

    @Test
    void putReplacesAndAttemptsCount() {
        try (Database db = Database.open(dir)) {
            ActivationStore s = new ActivationStore(db);
            s.put(activation(1, new byte[] {1}));
            assertThat(s.incrementAttempts(id(1))).isEqualTo(1);
            assertThat(s.incrementAttempts(id(1))).isEqualTo(2);
            assertThat(s.incrementAttempts(id(2))).isZero();
            s.put(activation(1, new byte[] {2}));
            PendingActivation a = s.take(id(1)).orElseThrow();
            assertThat(a.matches(new byte[] {2})).isTrue();
            assertThat(a.attempts()).isZero();
        }
    }

    @Test
    void purgeExpired() {
        try (Database db = Database.open(dir)) {
            ActivationStore s = new ActivationStore(db);
            s.put(activation(1, new byte[] {1}));
            s.put(PendingActivation.of(id(2), new byte[] {1}, new byte[] {1}, null, new byte[] {1}, "L-1", T0, T0.plusSeconds(600)));
            assertThat(s.purgeExpired(T0.plusSeconds(119))).isZero();
            assertThat(s.purgeExpired(T0.plusSeconds(120))).isEqualTo(1);
            assertThat(s.take(id(1))).isEmpty();
            assertThat(s.take(id(2))).isPresent();
        }
    }

    @Test
    void concurrentTakeHasExactlyOneWinner() throws Exception {
        try (Database db = Database.open(dir)) {
            ActivationStore s = new ActivationStore(db);
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                for (int round = 0; round < 50; round++) {
                    s.put(activation(round, new byte[] {(byte) round}));
                    CyclicBarrier start = new CyclicBarrier(2);
                    String device = id(round);
                    List<Future<Optional<PendingActivation>>> results = new ArrayList<>();
                    for (int t = 0; t < 2; t++) {
                        results.add(pool.submit(() -> {
                            start.await();
                            return s.take(device);
                        }));
                    }
                    int winners = 0;
                    for (Future<Optional<PendingActivation>> f : results) {
                        winners += f.get().isPresent() ? 1 : 0;
                    }
                    assertThat(winners).as("round %d", round).isEqualTo(1);
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
