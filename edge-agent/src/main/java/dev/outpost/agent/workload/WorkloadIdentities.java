package dev.outpost.agent.workload;

import java.security.GeneralSecurityException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.Executor;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.agent.workload.WorkloadAttestor.Workload;
import dev.outpost.agent.workload.WorkloadIssuer.IssuerException;
import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.WorkloadEntry;
import io.grpc.Status;
import io.grpc.StatusException;

/**
 * What the agent can give its workloads, and when it must stop: the entries, the held X509 and JWT SVIDs, and the
 * open streams, which are pushed again whenever any of these moves. Identity follows the node's state: {@link
 * #suspend} (a failed verdict, the node SVID gone) drops every workload SVID and ends every stream; while the
 * appliance is merely unreachable, held SVIDs serve until they expire ({@link #tick}) and never beyond.
 */
public final class WorkloadIdentities {
    private static final Logger LOG = LoggerFactory.getLogger(WorkloadIdentities.class);

    /** An open stream: asked to send again when something changed, or ended. */
    interface Subscriber {
        void refresh();

        void end(Status status);
    }

    private final WorkloadIssuer issuer;
    private final TrustBundles.Source bundles;
    private final EntryBook entries;
    private final X509Svids x509;
    private final JwtSvids jwt;
    private final Executor pushes;
    private final Set<Subscriber> subscribers = new CopyOnWriteArraySet<>();
    private volatile String suspended;

    public WorkloadIdentities(String trustDomain, WorkloadIssuer issuer, TrustBundles.Source bundles, Clock clock,
            Executor pushes) {
        this.issuer = issuer;
        this.bundles = bundles;
        this.entries = new EntryBook(trustDomain);
        this.x509 = new X509Svids(issuer, clock);
        this.jwt = new JwtSvids(issuer, clock);
        this.pushes = pushes;
    }

    /** The entry revision held, -1 before the first answer. */
    public long entriesRevision() {
        return entries.revision();
    }

    /** Asks the appliance for this node's entries; on success streams are matched again. */
    public void refreshEntries() throws IssuerException {
        List<WorkloadEntry> gone = entries.replace(issuer.entries(Math.max(0, entries.revision())));
        for (WorkloadEntry e : gone) {
            x509.drop(e.id());
            jwt.dropEntry(e.id());
        }
        LOG.info("workload entries: revision {}, {} for this node", entries.revision(), entries.all().size());
        changed();
    }

    /** The node may not serve identities (not trusted, node SVID gone): drop them all and end every stream. */
    public void suspend(String why) {
        boolean was = suspended == null;
        suspended = why;
        x509.clear();
        jwt.clear();
        if (was) {
            LOG.warn("workload identities withdrawn: {}", why);
        }
        Status s = Status.UNAVAILABLE.withDescription("the agent holds no identity to give: " + why);
        for (Subscriber sub : subscribers) {
            subscribers.remove(sub);
            // On the push threads: a stream busy asking the appliance must not hold up the daemon's thread.
            pushes.execute(() -> sub.end(s));
        }
    }

    /** The node is trusted again: new SVIDs may be asked for. */
    public void resume() {
        if (suspended != null) {
            LOG.info("workload identities may be served again");
        }
        suspended = null;
    }

    public boolean serving() {
        return suspended == null;
    }

    /** Renews what is past half life and drops what has expired; pushes streams when anything moved. */
    public void tick() {
        boolean moved = false;
        if (suspended == null) {
            for (X509Svids.Held h : x509.due()) {
                try {
                    x509.renew(h);
                    moved = true;
                    LOG.info("workload SVID {} renewed", h.entry().spiffeId());
                } catch (IssuerException e) {
                    if (refusedForGood(e.code())) {
                        x509.drop(h.entry().id());
                        moved = true;
                    }
                    LOG.warn("workload SVID {} not renewed: {}", h.entry().spiffeId(), e.getMessage());
                } catch (GeneralSecurityException e) {
                    LOG.warn("workload SVID {} not renewed: {}", h.entry().spiffeId(), e.getMessage());
                }
            }
        }
        List<String> expired = x509.dropExpired();
        if (!expired.isEmpty()) {
            LOG.warn("{} workload SVID(s) expired unrenewed and are no longer served", expired.size());
            moved = true;
        }
        if (moved) {
            changed();
        }
    }

    /** Something streams show moved (entries, SVIDs, bundles): every stream computes its answer again. */
    public void changed() {
        for (Subscriber s : subscribers) {
            pushes.execute(s::refresh);
        }
    }

    void subscribe(Subscriber s) {
        subscribers.add(s);
    }

    void unsubscribe(Subscriber s) {
        subscribers.remove(s);
    }

    int subscribers() {
        return subscribers.size();
    }

    /** The entries a caller matches, possibly none. */
    List<WorkloadEntry> matching(Workload w) {
        return entries.matching(w.selectors());
    }

    /**
     * The entries a caller matches; PermissionDenied when none. Before the first entries arrived (an agent started
     * while the appliance is away) the agent cannot tell that a caller matches none: Unavailable, so it asks again.
     */
    List<WorkloadEntry> entriesFor(Workload w) throws StatusException {
        if (entries.revision() < 0) {
            throw Status.UNAVAILABLE.withDescription("no registration entries received from the appliance yet")
                    .asException();
        }
        List<WorkloadEntry> m = entries.matching(w.selectors());
        if (m.isEmpty()) {
            throw Status.PERMISSION_DENIED.withDescription("no identity issued: no registration entry matches the caller")
                    .asException();
        }
        return m;
    }

    /** The caller's X509-SVIDs, one per matching entry; the reasons of the status say what is missing. */
    List<X509Svids.Held> x509For(Workload w) throws StatusException {
        List<WorkloadEntry> m = entriesFor(w);
        unavailableWhenSuspended();
        List<X509Svids.Held> out = new ArrayList<>();
        StatusException first = null;
        for (WorkloadEntry e : m) {
            try {
                out.add(x509.get(e, w));
            } catch (IssuerException ex) {
                first = first == null ? status(ex, e) : first;
            } catch (GeneralSecurityException ex) {
                LOG.warn("workload SVID for {} refused by the agent: {}", e.spiffeId(), ex.getMessage());
                first = first == null ? Status.UNAVAILABLE.withDescription("no valid SVID for " + e.spiffeId()).asException()
                        : first;
            }
        }
        if (out.isEmpty()) {
            throw first;
        }
        // Withdrawn while we were asking: what just arrived is not served either.
        unavailableWhenSuspended();
        return out;
    }

    boolean anyEntryNeeds(String selector) {
        return entries.anyNeeds(selector);
    }

    /** A JWT-SVID per matching entry (or for the one SPIFFE ID asked for). */
    List<JwtSvids.Held> jwtFor(Workload w, List<String> audience, String spiffeId) throws StatusException {
        List<WorkloadEntry> m = entriesFor(w);
        if (spiffeId != null && !spiffeId.isEmpty()) {
            m = m.stream().filter(e -> e.spiffeId().equals(spiffeId)).toList();
            if (m.isEmpty()) {
                throw Status.PERMISSION_DENIED.withDescription("no registration entry gives the caller " + spiffeId)
                        .asException();
            }
        }
        unavailableWhenSuspended();
        List<JwtSvids.Held> out = new ArrayList<>();
        StatusException first = null;
        for (WorkloadEntry e : m) {
            try {
                out.add(jwt.get(e, audience, w));
            } catch (IssuerException ex) {
                first = first == null ? status(ex, e) : first;
            }
        }
        if (out.isEmpty()) {
            throw first;
        }
        unavailableWhenSuspended();
        return out;
    }

    /** The trust domains whose bundles a caller gets besides its own: the union of its entries' federatesWith. */
    Set<String> federatesWith(List<WorkloadEntry> m) {
        Set<String> out = new LinkedHashSet<>();
        for (WorkloadEntry e : m) {
            if (e.federatesWith() != null) {
                out.addAll(e.federatesWith());
            }
        }
        return out;
    }

    TrustBundles bundles() throws StatusException {
        try {
            return bundles.current();
        } catch (java.io.IOException | RuntimeException e) {
            throw Status.UNAVAILABLE.withDescription("trust bundle unreadable").asException();
        }
    }

    private void unavailableWhenSuspended() throws StatusException {
        String why = suspended;
        if (why != null) {
            throw Status.UNAVAILABLE.withDescription("the agent holds no identity to give: " + why).asException();
        }
    }

    private StatusException status(IssuerException e, WorkloadEntry entry) {
        LOG.warn("workload SVID for {}: {}", entry.spiffeId(), e.getMessage());
        if (e.code() == ErrorCode.FORBIDDEN) {
            return Status.PERMISSION_DENIED.withDescription("the appliance refuses " + entry.spiffeId() + " to this caller")
                    .asException();
        }
        return Status.UNAVAILABLE.withDescription(e.code() == null ? "appliance unreachable and no SVID held"
                : "the appliance refuses identities to this node now (" + e.code() + ")").asException();
    }

    // The appliance said this node or entry gets no identity now: the held SVID goes at once, not at its expiry.
    private static boolean refusedForGood(ErrorCode code) {
        return code == ErrorCode.NOT_TRUSTED || code == ErrorCode.ATTESTATION_FAILED || code == ErrorCode.REVOKED
                || code == ErrorCode.FORBIDDEN || code == ErrorCode.NOT_ENROLLED;
    }
}
