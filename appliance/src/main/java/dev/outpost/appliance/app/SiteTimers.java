package dev.outpost.appliance.app;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.appliance.attest.AttestationService;
import dev.outpost.appliance.config.ApplianceConfig;
import dev.outpost.appliance.enroll.KnownDeviceIds;
import dev.outpost.appliance.store.AllowListStore;
import dev.outpost.appliance.store.AuditLog;
import dev.outpost.appliance.store.Database;
import dev.outpost.appliance.store.OutboxHighWater;
import dev.outpost.appliance.store.Retention;
import dev.outpost.appliance.timers.Periodic;
import io.vertx.core.Vertx;

/**
 * The site's periodic housekeeping, each on a worker (JDBC, files): the allow-list directory, stale devices, the
 * batched attestation and refusal writes, abandoned evidence, H2 compaction and retention.
 */
final class SiteTimers {
    private static final Logger LOG = LoggerFactory.getLogger(SiteTimers.class);
    private static final Duration ALLOW_DIR_SYNC = Duration.ofSeconds(30);
    // A stop records it too; after a crash the file may be this much behind, and a copy newer than it goes unseen.
    private static final Duration OUTBOX_HIGH_WATER_EVERY = Duration.ofSeconds(10);
    // H2 housekeeping (see Database.compactStep): at most 16 MiB rewritten every 10 s keeps the file's chunks at
    // least half full without a noticeable pause.
    private static final Duration COMPACT_EVERY = Duration.ofSeconds(10);
    private static final int COMPACT_FILL_RATE = 50;
    private static final int COMPACT_WRITE_BYTES = 16 << 20;
    private static final Duration FLUSH_TICK_MIN = Duration.ofMillis(100);

    private SiteTimers() {
    }

    static void schedule(Vertx vertx, ApplianceConfig config, Clock clock, Database db, AllowListStore allowList,
            KnownDeviceIds known, AttestationService attestation, AuditLog audit) {
        ApplianceConfig.Attestation at = config.attestation();
        Periodic.every(vertx, ALLOW_DIR_SYNC, "allow-list sync", () -> {
            syncAllowDir(allowList, config.enrollment().allowListDir());
            return known.refresh();
        });
        // Where the outbox stands, beside the database: a copy put back by hand is then known at start.
        Periodic.every(vertx, OUTBOX_HIGH_WATER_EVERY, "outbox high water", () -> {
            OutboxHighWater.record(db, config.dataDir());
            return null;
        });
        Duration sweep = Duration.ofMillis(Math.max(1000, Math.min(10_000, at.freshness().toMillis() / 4)));
        Periodic.every(vertx, sweep, "stale sweep", attestation::sweepStale);
        // Routine passes: each written once it has waited nearly the interval, checked ten times an interval, so the
        // writes come a slice at a time (AttestationStore) and a pass still waits at most the interval.
        Duration tick = Duration.ofMillis(Math.max(FLUSH_TICK_MIN.toMillis(), at.flushInterval().toMillis() / 10));
        Duration held = at.flushInterval().compareTo(tick) > 0 ? at.flushInterval().minus(tick) : Duration.ZERO;
        Periodic.every(vertx, tick, "routine pass flush", () -> attestation.flushHeldFor(held));
        Periodic.every(vertx, at.flushInterval(), "refusal flush", () -> audit.flushRefusals(clock.instant()));
        // Evidence of devices that went quiet mid-upload is dropped on its own schedule, not only when
        // another device asks for a challenge.
        vertx.setPeriodic(Math.max(1000, Math.min(10_000, at.challengeTtl().toMillis() / 2)),
                t -> attestation.purgeExpiredChallenges());
        Periodic.every(vertx, COMPACT_EVERY, "H2 compaction", () -> {
            int fill = db.compactStep(COMPACT_FILL_RATE, COMPACT_WRITE_BYTES);
            LOG.debug("H2 chunks {} % full after compaction", fill);
            return fill;
        });
        ApplianceConfig.Retention kept = config.retention();
        Retention retention = new Retention(db, clock, new Retention.Settings(kept.audit(), kept.auditLasting(),
                kept.svids(), kept.batchSize(), Retention.MAX_BATCHES_PER_RUN));
        Periodic.every(vertx, kept.every(), "retention", retention::run);
    }

    /** Mirrors the allow-list directory into the store; a directory that cannot be read is logged and kept as it was. */
    static void syncAllowDir(AllowListStore allowList, Path dir) {
        if (dir != null && Files.isDirectory(dir)) {
            try {
                allowList.syncDirectory(dir);
            } catch (IOException | RuntimeException e) {
                LOG.warn("allow-list directory {}: {}", dir, e.getMessage());
            }
        }
    }
}
