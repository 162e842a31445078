package dev.outpost.appliance.store;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

import org.h2.mvstore.MVStore;

/**
 * Makes transactions durable in groups: one write of H2's store for all the transactions that committed while the
 * previous write ran, instead of one write each.
 *
 * <p>H2 with {@code WRITE_DELAY=0} writes a chunk at every commit, and under load every one of them finds changes to
 * write (other transactions' in-flight rows), so none is ever shared: at 128 enrollments in flight the commits were
 * 22 % of the appliance's CPU and the file grew ~280 KiB per enrolled device. Here a committed transaction takes a
 * ticket and waits for a write that began after it: the first waiter writes for everyone behind it, the others
 * find their ticket covered and return. A lone transaction pays one write, as before; nothing waits on a timer.
 *
 * <p>One instance per {@link MVStore}: a store H2 closed (a failed write) takes its unwritten commits with it, and a
 * write of the store that replaced it must not be taken as covering them.
 */
final class GroupCommit {
    private final MVStore store;
    private final AtomicLong committed = new AtomicLong();
    private final ReentrantLock writing = new ReentrantLock();
    // written under `writing`; read under it too
    private long durableThrough;

    GroupCommit(MVStore store) {
        this.store = store;
    }

    boolean isFor(MVStore s) {
        return store == s;
    }

    /**
     * Returns once every change committed in memory before this call is in the database file (the OS page cache:
     * a process kill loses nothing acknowledged; see {@link Database} on power cuts). Throws when the store cannot
     * write it; then the caller's transaction is not durable and must not be acknowledged.
     */
    void awaitDurable() {
        long ticket = committed.incrementAndGet();
        writing.lock();
        try {
            if (durableThrough >= ticket) {
                return;
            }
            // every ticket up to here was taken after its transaction's in-memory commit: the write below has it
            long covers = committed.get();
            store.commit();
            // H2 may have handed part of an earlier write (its background writer, or a store forced by memory
            // pressure) to its writer threads, in which case commit() finds nothing left and returns at once: wait
            // for those threads too.
            store.executeFilestoreOperation(() -> {
            });
            if (store.isClosed()) {
                throw new StoreException("database closed before the commit was written"
                        + (store.getPanicException() == null ? "" : ": " + store.getPanicException().getMessage()));
            }
            durableThrough = covers;
        } catch (org.h2.mvstore.MVStoreException e) {
            throw new StoreException("database: the commit could not be written: " + e.getMessage(), e);
        } finally {
            writing.unlock();
        }
    }
}
