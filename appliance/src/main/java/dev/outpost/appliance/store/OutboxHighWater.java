package dev.outpost.appliance.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.spiffe.KeyFiles;

/**
 * The highest outbox seq this data directory's appliance has made durable, kept in a file beside the database
 * ({@code outpost.outbox-seq}). A database put back by hand from an older copy (no {@code restore}, which marks the
 * database itself) is behind that file at the next start: it is then marked restored as {@code restore} would have
 * done, so central reconciles the seqs it reuses instead of taking its new events for repeats
 * (docs/upward-link.md). The file is written only from durable state, so a crash leaves it at or behind the
 * database, never ahead: a restart after a crash is not taken for a restore. Named like the database's files, so
 * {@code reset} and {@code restore} move it aside with them.
 */
public final class OutboxHighWater {
    public static final String FILE = Database.FILE_NAME + ".outbox-seq";
    private static final Logger LOG = LoggerFactory.getLogger(OutboxHighWater.class);

    private OutboxHighWater() {
    }

    /**
     * At start, before anything is appended: marks the database restored when its outbox is behind the file.
     *
     * @return the seq the file holds when the database was behind it (and is now marked), else -1
     */
    public static long checkAtStart(Database db, Path dataDir) {
        long recorded = read(dataDir);
        long last = db.outbox().backlog().lastSeq();
        if (recorded <= last) {
            return -1;
        }
        OutboxStore.markRestored(db);
        // From here the database is the site's history: the next start compares with it, not with what was lost
        // (marking again later would move the restore point past events written after this start).
        db.awaitDurable();
        write(dataDir, last);
        LOG.warn("the database's outbox ends at seq {}, but this data directory's appliance had written through seq {}: "
                + "the database was put back from an older copy; it is treated as restored (as by `outpost-appliance "
                + "restore`), so its new events are reconciled with central rather than taken for ones it holds",
                last, recorded);
        return recorded;
    }

    /** Records where the outbox stands, once that is in the database file. */
    public static void record(Database db, Path dataDir) {
        // Read first, then wait: what was read was committed before the wait began, so it is durable after it (read
        // after the wait, a commit landing in between could put the file ahead of what a crash keeps).
        long last = db.outbox().backlog().lastSeq();
        if (last <= read(dataDir)) {
            return;
        }
        db.awaitDurable();
        write(dataDir, last);
    }

    private static void write(Path dataDir, long seq) {
        try {
            KeyFiles.writePrivate(dataDir.resolve(FILE), (seq + "\n").getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            // A stale file only narrows what the next start can tell; the appliance goes on.
            LOG.warn("cannot record the outbox's high-water mark in {}: {}", dataDir.resolve(FILE), e.getMessage());
        }
    }

    /** The seq the file holds; -1 when there is none, or it cannot be read (said in the log). */
    static long read(Path dataDir) {
        Path f = dataDir.resolve(FILE);
        if (!Files.exists(f)) {
            return -1;
        }
        try {
            String text = new String(KeyFiles.readLimited(f, 64), StandardCharsets.US_ASCII).strip();
            long seq = Long.parseLong(text);
            return seq < 0 ? -1 : seq;
        } catch (IOException | NumberFormatException e) {
            LOG.warn("ignoring {}: {}", f, e.getMessage());
            return -1;
        }
    }
}
