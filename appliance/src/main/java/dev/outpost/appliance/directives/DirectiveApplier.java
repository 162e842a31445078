package dev.outpost.appliance.directives;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.appliance.store.AuditEvent;
import dev.outpost.appliance.store.AuditLog;
import dev.outpost.appliance.store.Database;
import dev.outpost.appliance.store.DeviceStore;
import dev.outpost.appliance.store.PolicyStore;

/**
 * Applies central's directives in version order, each in ONE transaction with its audit row and the applied
 * version: a crash before the commit leaves nothing applied and the version where it was (the directive comes again),
 * a crash after it leaves both (it is not asked for again). What cannot be undone by a rollback (the revocation
 * event to devices, the disconnect, the policy cache) happens after the commit.
 *
 * <p>Local wins: a policy the site operator made or edited (source local) is never replaced, reassigned or deleted
 * by central; the directive is recorded as {@code directive.kept-local} and the version moves on. Blocking (JDBC).
 */
public final class DirectiveApplier {
    private static final Logger LOG = LoggerFactory.getLogger(DirectiveApplier.class);
    public static final String KEPT_LOCAL = "directive.kept-local";

    private final Database db;
    private final DeviceStore devices;
    private final PolicyStore policies;
    private final CentralBans bans;
    private final AuditLog audit;
    private final Clock clock;
    private final BiConsumer<String, String> revoked;
    // Tests: runs inside the transaction after the effect, before the version is recorded (a crash there).
    private volatile Consumer<Directive> beforeCommit = d -> {
    };

    /**
     * @param revoked after the commit of a ban that revoked a known device: (device id, reason), the operator's
     *                revoke path (quarantine, signed revocation event, disconnect)
     */
    public DirectiveApplier(Database db, DeviceStore devices, PolicyStore policies, CentralBans bans, AuditLog audit,
            Clock clock, BiConsumer<String, String> revoked) {
        this.db = db;
        this.devices = devices;
        this.policies = policies;
        this.bans = bans;
        this.audit = audit;
        this.clock = clock;
        this.revoked = revoked;
    }

    void beforeCommit(Consumer<Directive> hook) {
        this.beforeCommit = hook;
    }

    public long applied() {
        return db.inTransaction(AppliedVersion::read);
    }

    /** Applies the directives in order; the first failure stops the rest (thrown), so none is ever skipped. */
    public synchronized int apply(List<Directive> directives) {
        int n = 0;
        for (Directive d : directives) {
            if (apply(d)) {
                n++;
            }
        }
        return n;
    }

    /** False when it was applied before (its version is not above the applied one). */
    synchronized boolean apply(Directive d) {
        Instant now = clock.instant();
        // Under the policy store's write lock: an operator's edit cannot land between the local check and the write.
        Runnable after = policies.writing(() -> db.inTransaction(c -> {
            long current = AppliedVersion.read(c);
            if (d.version() <= current) {
                return null;
            }
            Runnable done = effect(c, d, now);
            beforeCommit.accept(d);
            AppliedVersion.advance(c, current, d.version(), now);
            return done;
        }));
        if (after == null) {
            return false;
        }
        after.run();
        return true;
    }

    private Runnable effect(Connection c, Directive d, Instant now) throws SQLException {
        String from = "central directive " + d.version();
        if (d instanceof Directive.Ban b) {
            bans.ban(c, b.ekHash(), b.reason(), b.version(), now);
            String reason = "banned fleet-wide by central: " + b.reason();
            boolean known = devices.revoke(c, b.ekHash(), reason, now);
            audit.record(c, AuditEvent.of(now, b.ekHash(), "revoke", AuditEvent.Decision.DENY, reason,
                    from + (known ? "; device revoked" : "; no device to revoke here (unknown or revoked already): "
                            + "its enrollment is refused")));
            return () -> {
                LOG.info("{}: EK {} banned ({}){}", from, b.ekHash(), b.reason(), known ? "; device revoked" : "");
                if (known) {
                    revoked.accept(b.ekHash(), reason);
                }
            };
        }
        if (d instanceof Directive.PolicyPut p) {
            if (local(c, p.name(), d, "policy.put", now)) {
                return () -> keptLocal(d, p.name());
            }
            policies.putFromCentral(c, p.name(), p.kind(), p.content(), p.version());
            audit.record(c, AuditEvent.of(now, null, "policy", AuditEvent.Decision.INFO, p.kind().db() + " policy "
                    + p.name() + " stored from central (sha256 " + p.sha256() + ")", from));
            return () -> {
                policies.changed();
                LOG.info("{}: {} policy {} stored (sha256 {})", from, p.kind().db(), p.name(), p.sha256());
            };
        }
        if (d instanceof Directive.PolicyAssign a) {
            if (local(c, a.name(), d, "policy.assign", now)) {
                return () -> keptLocal(d, a.name());
            }
            boolean present = policies.assignFromCentral(c, a.label(), a.name());
            audit.record(c, AuditEvent.of(now, null, "policy", AuditEvent.Decision.INFO, present
                    ? "policy " + a.name() + " assigned to label " + a.label() + " by central"
                    : "central assigned policy " + a.name() + " to label " + a.label() + " but the site has no such "
                            + "policy: nothing assigned", from));
            return () -> {
                policies.changed();
                if (present) {
                    LOG.info("{}: policy {} assigned to label {}", from, a.name(), a.label());
                } else {
                    LOG.warn("{}: policy {} to label {} not assigned: the site has no such policy", from, a.name(),
                            a.label());
                }
            };
        }
        if (d instanceof Directive.PolicyDelete x) {
            if (local(c, x.name(), d, "policy.delete", now)) {
                return () -> keptLocal(d, x.name());
            }
            boolean deleted = policies.deleteFromCentral(c, x.name());
            audit.record(c, AuditEvent.of(now, null, "policy", AuditEvent.Decision.INFO, "policy " + x.name()
                    + (deleted ? " deleted by central" : " deleted by central (not present here)"), from));
            return () -> {
                policies.changed();
                LOG.info("{}: policy {} deleted", from, x.name());
            };
        }
        throw new IllegalArgumentException("unknown directive " + d);
    }

    // The site operator's policy of that name: kept, and the decision audited (the outbox carries it to central).
    private boolean local(Connection c, String name, Directive d, String kind, Instant now) throws SQLException {
        Optional<PolicyStore.Source> s = policies.source(c, name);
        if (s.isEmpty() || s.get() != PolicyStore.Source.LOCAL) {
            return false;
        }
        audit.record(c, AuditEvent.of(now, null, KEPT_LOCAL, AuditEvent.Decision.INFO, "the site's own policy " + name
                + " was kept: central's " + kind + " (directive " + d.version() + ") not applied", "version "
                + d.version()));
        return true;
    }

    private static void keptLocal(Directive d, String name) {
        LOG.warn("central directive {} not applied: policy {} was made or edited at this site, and the site's own wins "
                + "(audited as {})", d.version(), name, KEPT_LOCAL);
    }
}
