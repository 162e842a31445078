package dev.outpost.ima.verify;

import static dev.outpost.ima.verify.Fixtures.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.outpost.ima.list.Hex;
import dev.outpost.ima.list.ImaEntry;
import dev.outpost.ima.list.ImaListWriter;
import dev.outpost.ima.policy.PolicyException;
import dev.outpost.ima.policy.RuntimePolicy;
import dev.outpost.ima.replay.ReplayVariant;
import dev.outpost.tpm.HashAlg;

/** Verifying while the policy still loads: the same results as with the policy loaded, within the bound. */
class PendingEvaluationsTest {
    private static final int N = 4000;
    private static final long BOUND = 64 << 10;

    /** A policy future that is never done on its own: the reader must fill the queue and then wait for it. */
    static final class LateFuture implements Future<CompiledPolicy> {
        private final PolicyResult result;
        private final int doneAfterPolls;
        private int polls;
        boolean waitedFor;

        LateFuture(PolicyResult result, int doneAfterPolls) {
            this.result = result;
            this.doneAfterPolls = doneAfterPolls;
        }

        @Override
        public boolean isDone() {
            return waitedFor || ++polls > doneAfterPolls;
        }

        @Override
        public CompiledPolicy get() throws java.util.concurrent.ExecutionException {
            waitedFor = true;
            return result.get();
        }

        @Override
        public CompiledPolicy get(long t, TimeUnit u) throws java.util.concurrent.ExecutionException {
            return get();
        }

        @Override
        public boolean cancel(boolean b) {
            return false;
        }

        @Override
        public boolean isCancelled() {
            return false;
        }
    }

    interface PolicyResult {
        CompiledPolicy get() throws java.util.concurrent.ExecutionException;
    }

    enum Kind { PASS, TAMPERED_DIGEST, UNLISTED, TEMPLATE_HASH, DROPPED, NOTHING_LISTED }

    private static List<ImaEntry> honest() {
        HashAlg a = HashAlg.SHA256;
        List<ImaEntry> l = new ArrayList<>();
        l.add(ImaListWriter.imaNg(0, a, digest(a, "aggregate"), "boot_aggregate"));
        for (int i = 1; i < N; i++) {
            // Mostly ima-ng (packed while waiting), with entries that wait as objects in between.
            if (i % 500 == 7) {
                l.add(ImaListWriter.violation(i, a, "/var/log/busy" + i));
            } else if (i % 300 == 11) {
                l.add(ImaListWriter.imaBuf(i, a, "kernel_cmdline", ("root=/dev/sda" + i % 3).getBytes()));
            } else if (i % 300 == 13) {
                l.add(ImaListWriter.imaSig(i, a, digest(a, "s" + i % 7), "/usr/bin/signed" + i % 7, null));
            } else {
                l.add(ImaListWriter.imaNg(i, a, digest(a, "c" + i % 900), (i % 3 == 0 ? "/usr/lib/naïve/文" : "/usr/lib/f")
                        + i % 900));
            }
        }
        return l;
    }

    /** The list of each kind (as the bench's ImaSideBySide tampers it), its quote, and the policy. */
    private static Object[] workload(Kind kind) {
        List<ImaEntry> good = honest();
        byte[] quote = pcr(good, HashAlg.SHA256, ReplayVariant.NATIVE);
        RuntimePolicy policy = allowing(good, List.of("/tmp/.*"), "");
        List<ImaEntry> l = new ArrayList<>(good);
        int mid = N / 2 + 1;
        HashAlg a = HashAlg.SHA256;
        switch (kind) {
            case TAMPERED_DIGEST -> l.set(mid, ImaListWriter.imaNg(mid, a, digest(a, "trojaned"), l.get(mid).path()));
            case UNLISTED -> l.set(mid, ImaListWriter.imaNg(mid, a, digest(a, "dropper"), "/usr/bin/dropper"));
            case TEMPLATE_HASH -> {
                byte[] th = l.get(mid).templateHash().clone();
                th[0] ^= 1;
                l.set(mid, l.get(mid).withTemplateHash(th));
            }
            case DROPPED -> {
                l.remove(mid);
                for (int i = mid; i < l.size(); i++) {
                    l.set(i, l.get(i).withIndex(i));
                }
            }
            case NOTHING_LISTED -> {
                policy = allowing(List.of(good.get(0)), List.of(), "");
                // Template failures interleaved with the policy's, past the 1,000 kept.
                for (int i = 3; i < N; i += 97) {
                    byte[] th = l.get(i).templateHash().clone();
                    th[1] ^= 1;
                    l.set(i, l.get(i).withTemplateHash(th));
                }
            }
            default -> { }
        }
        if (kind != Kind.TEMPLATE_HASH && kind != Kind.DROPPED && kind != Kind.NOTHING_LISTED) {
            quote = pcr(l, HashAlg.SHA256, ReplayVariant.NATIVE);
        }
        return new Object[] {l, quote, new CompiledPolicy(policy)};
    }

    @SuppressWarnings("unchecked")
    @ParameterizedTest
    @EnumSource(Kind.class)
    void lateLoadingPolicyGivesTheSequentialResult(Kind kind) throws Exception {
        Object[] w = workload(kind);
        byte[] list = ascii((List<ImaEntry>) w[0]);
        QuotedPcr quote = new QuotedPcr(HashAlg.SHA256, (byte[]) w[1]);
        CompiledPolicy policy = (CompiledPolicy) w[2];
        ImaVerificationResult sequential = new IncrementalImaVerifier(policy).verify(null, "b", quote, reader(list, 0));
        ImaVerificationResult sequentialWhole = new IncrementalImaVerifier(policy).verifyWhole(reader(list, 0),
                HashAlg.SHA256);
        for (int doneAfter : new int[] {0, 50, 1500, Integer.MAX_VALUE}) {
            LateFuture late = new LateFuture(() -> policy, doneAfter);
            IncrementalImaVerifier v = new IncrementalImaVerifier(late, ViolationHandling.COUNT, BOUND);
            assertSame(v.verify(null, "b", quote, reader(list, 0)), sequential);
            assertSame(new IncrementalImaVerifier(new LateFuture(() -> policy, doneAfter), ViolationHandling.COUNT,
                    BOUND).verifyWhole(reader(list, 0), HashAlg.SHA256), sequentialWhole);
            if (doneAfter == Integer.MAX_VALUE) {
                assertThat(late.waitedFor).isTrue();
            }
        }
        assertThat(sequential.passed()).isEqualTo(kind == Kind.PASS);
        if (kind == Kind.NOTHING_LISTED) {
            assertThat(sequential.failureCount()).isGreaterThan(IncrementalImaVerifier.MAX_FAILURES);
        }
    }

    private static void assertSame(ImaVerificationResult r, ImaVerificationResult expected) {
        assertThat(r.passed()).isEqualTo(expected.passed());
        assertThat(r.failures()).isEqualTo(expected.failures());
        assertThat(r.failureCount()).isEqualTo(expected.failureCount());
        assertThat(r.entriesRead()).isEqualTo(expected.entriesRead());
        assertThat(r.entriesMatched()).isEqualTo(expected.entriesMatched());
        assertThat(r.violations()).isEqualTo(expected.violations());
        assertThat(r.variant()).isEqualTo(expected.variant());
        assertThat(Hex.encode(r.replayedPcr())).isEqualTo(Hex.encode(expected.replayedPcr()));
        assertThat(r.nextState().nextIndex()).isEqualTo(expected.nextState().nextIndex());
        assertThat(Hex.encode(r.nextState().pcr())).isEqualTo(Hex.encode(expected.nextState().pcr()));
    }

    @Test
    void waitingEntriesNeverExceedTheBound() throws Exception {
        List<ImaEntry> l = honest();
        CompiledPolicy policy = new CompiledPolicy(allowing(l, List.of(), ""));
        long total = l.stream().mapToLong(EntryQueue::cost).sum();
        assertThat(total).isGreaterThan(4 * BOUND);
        LateFuture late = new LateFuture(() -> policy, Integer.MAX_VALUE);
        List<ImaFailure> out = new ArrayList<>();
        PendingEvaluations p = new PendingEvaluations(late, new Keyring(), BOUND, out::add);
        long maxCost = 0;
        for (ImaEntry e : l) {
            maxCost = Math.max(maxCost, EntryQueue.cost(e));
            p.evaluate(e);
            assertThat(p.highWaterBytes()).isLessThanOrEqualTo(BOUND);
        }
        p.finish();
        assertThat(late.waitedFor).isTrue();
        // It filled up to the bound, not less, before it waited.
        assertThat(p.highWaterBytes()).isGreaterThan(BOUND - maxCost);
        assertThat(out).isEmpty();
    }

    @Test
    void aPolicyThatFailsToLoadWinsOverTheListsOwnFailures() throws Exception {
        List<ImaEntry> l = honest();
        byte[] list = ascii(l.subList(0, 100));
        byte[] truncated = java.util.Arrays.copyOf(list, list.length - 10);
        CompletableFuture<CompiledPolicy> failed = CompletableFuture.failedFuture(new PolicyException("$.x: bad"));
        for (byte[] b : List.of(list, truncated)) {
            assertThatThrownBy(() -> new IncrementalImaVerifier(failed, ViolationHandling.COUNT, BOUND)
                    .verifyWhole(reader(b, 0), HashAlg.SHA256)).isInstanceOf(PolicyException.class).hasMessage("$.x: bad");
        }
    }
}
