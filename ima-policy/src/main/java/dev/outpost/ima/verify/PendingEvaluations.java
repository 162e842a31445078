package dev.outpost.ima.verify;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.Consumer;

import dev.outpost.ima.list.ImaEntry;

/**
 * Lets a verification read, hash-check and replay a list while its policy is still being loaded on another thread
 * (a 100,000-path policy takes about as long as a few hundred thousand entries). Entries that need the policy wait
 * here, in order, with any failure decided without it, until the policy is there; then they are judged in list
 * order and everything after goes straight through. So the failures come out in exactly the order, and with the
 * same messages and cap, as when the policy was there from the start. The queue is bounded by an estimate of the
 * heap its entries hold: when the next one would not fit, the reader waits for the policy. Not thread-safe: one per
 * verification, on the reading thread.
 */
final class PendingEvaluations {
    /** Per queued entry beyond its arrays: the entry, its String and array headers, the queue slot. */
    static final int ENTRY_OVERHEAD = 200;

    private final Future<CompiledPolicy> policy;
    private final Keyring keys;
    private final long maxBytes;
    private final Consumer<ImaFailure> out;
    private final EntryQueue queue;
    private EntryEvaluator evaluator;
    private long bytes;
    private long highWater;

    /**
     * @param policy   the policy being loaded; a failure to load it is thrown from the first call that needs it
     * @param maxBytes bound on the estimated heap held by waiting entries
     * @param out      receives every failure, in list order
     */
    PendingEvaluations(Future<CompiledPolicy> policy, Keyring keys, long maxBytes, Consumer<ImaFailure> out) {
        this.policy = policy;
        this.keys = keys;
        this.maxBytes = maxBytes;
        this.out = out;
        this.queue = new EntryQueue(maxBytes);
    }

    /** Judges the entry against the policy now, or once the policy is there. */
    void evaluate(ImaEntry e) throws IOException {
        if (evaluator == null && !ready(false)) {
            long cost = EntryQueue.cost(e);
            if (bytes + cost <= maxBytes) {
                queue.add(e);
                count(cost);
                return;
            }
            ready(true);
        }
        emit(evaluator.evaluate(e));
    }

    /** A failure found without the policy (template hash, PCR, list): in order behind the entries still waiting. */
    void failed(ImaFailure f) throws IOException {
        if (queue.isEmpty()) {
            out.accept(f);
            return;
        }
        long cost = EntryQueue.cost(f);
        if (bytes + cost > maxBytes) {
            ready(true);
            out.accept(f);
            return;
        }
        queue.add(f);
        count(cost);
    }

    /** Waits for the policy and judges every waiting entry; throws the policy's failure to load, if any. */
    void finish() throws IOException {
        if (evaluator == null) {
            ready(true);
        }
    }

    /** The most estimated bytes that were waiting at once. */
    long highWaterBytes() {
        return highWater;
    }

    private void count(long cost) {
        bytes += cost;
        highWater = Math.max(highWater, bytes);
    }

    private boolean ready(boolean wait) throws IOException {
        if (!wait && !policy.isDone()) {
            return false;
        }
        evaluator = new EntryEvaluator(await(policy), keys);
        for (Object o; (o = queue.poll()) != null;) {
            emit(o instanceof ImaEntry e ? evaluator.evaluate(e) : (ImaFailure) o);
        }
        bytes = 0;
        return true;
    }

    private void emit(ImaFailure f) {
        if (f != null) {
            out.accept(f);
        }
    }

    /** The policy, or the exception that stopped it from loading, as thrown by the loader. */
    static CompiledPolicy await(Future<CompiledPolicy> policy) throws IOException {
        try {
            return policy.get();
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the policy");
        } catch (ExecutionException ex) {
            Throwable c = ex.getCause();
            if (c instanceof RuntimeException r) {
                throw r;
            }
            if (c instanceof IOException io) {
                throw io;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException("policy could not be loaded", c);
        }
    }

    /** Estimated heap a waiting entry holds: its arrays, its path and {@link #ENTRY_OVERHEAD}. */
    static long cost(ImaEntry e) {
        return ENTRY_OVERHEAD + e.templateData().length + e.templateHash().length + len(e.digest())
                + 2L * e.path().length() + len(e.signature()) + len(e.buffer()) + len(e.modsigDigest())
                + len(e.modsig());
    }

    private static int len(byte[] b) {
        return b == null ? 0 : b.length;
    }
}
