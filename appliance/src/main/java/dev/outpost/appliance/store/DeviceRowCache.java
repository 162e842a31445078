package dev.outpost.appliance.store;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Device rows as last committed, so that an attestation does not read its device's row from H2 twice (a secondary
 * index lookup and a row fetch each time: a tenth of the appliance's CPU per attestation at 1,000 a second).
 *
 * <p>Never stale past a commit: {@link DeviceRowsChanged} notes every row a statement writes, and the transaction
 * drops those rows here right after it commits or rolls back, before it returns to its caller. A reader that read
 * the row before such a commit can only cache what it read if no change was announced since it began to read:
 * {@link #offer} checks the change count under the key's lock, which the announcement's removal also takes, so
 * either the offer sees the count moved or the removal comes after the insert. Unknown ids are not cached, and past
 * {@code capacity} rows new ones are not either: the cache cannot be grown by anyone asking.
 */
final class DeviceRowCache {
    private final ConcurrentHashMap<String, DeviceRecord> rows = new ConcurrentHashMap<>();
    private final AtomicLong changes = new AtomicLong();
    private final int capacity;

    DeviceRowCache(int capacity) {
        this.capacity = capacity;
    }

    DeviceRecord get(String id) {
        return rows.get(id);
    }

    /** To read before a row is read from the database, and to pass to {@link #offer} with what was read. */
    long changes() {
        return changes.get();
    }

    void offer(DeviceRecord row, long changesBeforeRead) {
        if (rows.size() >= capacity) {
            return;
        }
        // The check and the insert under the key's lock, which changed() takes to remove: a put first and a check
        // after would show the stale row to other readers in between.
        rows.compute(row.deviceId(), (id, current) -> changes.get() == changesBeforeRead ? row : current);
    }

    void changed(Set<String> ids) {
        changes.incrementAndGet();
        for (String id : ids) {
            rows.remove(id);
        }
    }

    int size() {
        return rows.size();
    }
}
