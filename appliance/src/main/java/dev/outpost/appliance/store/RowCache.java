package dev.outpost.appliance.store;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Rows of one table keyed by device id, as last committed, so that an attestation does not read its device's row and
 * its attestation record from H2 each time (a secondary index lookup and a row fetch each: the device row alone,
 * read twice, was a tenth of the appliance's CPU per attestation at 1,000 a second).
 *
 * <p>Never stale past a commit: {@link RowsChanged} notes every row a statement writes, and the transaction drops
 * those rows here right after it commits or rolls back, before it returns to its caller. A reader that read the row
 * before such a commit can only cache what it read if no change was announced since it began to read: {@link #offer}
 * checks the change count under the key's lock, which the announcement's removal also takes, so either the offer
 * sees the count moved or the removal comes after the insert. Absent rows are not cached, and past {@code capacity}
 * rows new ones are not either: the cache cannot be grown by anyone asking.
 *
 * <p>Rows are shared between readers: their byte arrays must not be written to (nothing does; parsers read them).
 */
final class RowCache<T> {
    private final ConcurrentHashMap<String, T> rows = new ConcurrentHashMap<>();
    private final AtomicLong changes = new AtomicLong();
    private final int capacity;

    RowCache(int capacity) {
        this.capacity = capacity;
    }

    T get(String deviceId) {
        return rows.get(deviceId);
    }

    /** The row from memory, or as {@code read} finds it in the database, kept under the rule above. */
    Optional<T> get(String deviceId, Supplier<Optional<T>> read) {
        T cached = rows.get(deviceId);
        if (cached != null) {
            return Optional.of(cached);
        }
        long before = changes.get();
        Optional<T> row = read.get();
        row.ifPresent(r -> offer(deviceId, r, before));
        return row;
    }

    /** To read before a row is read from the database, and to pass to {@link #offer} with what was read. */
    long changes() {
        return changes.get();
    }

    void offer(String deviceId, T row, long changesBeforeRead) {
        if (rows.size() >= capacity) {
            return;
        }
        // The check and the insert under the key's lock, which changed() takes to remove: a put first and a check
        // after would show the stale row to other readers in between.
        rows.compute(deviceId, (id, current) -> changes.get() == changesBeforeRead ? row : current);
    }

    void changed(String deviceId) {
        changes.incrementAndGet();
        rows.remove(deviceId);
    }

    int size() {
        return rows.size();
    }
}
