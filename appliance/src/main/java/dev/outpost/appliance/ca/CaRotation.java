package dev.outpost.appliance.ca;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rotates the site CA by SPIRE's rule, on the injected clock: when half of the active CA's lifetime is left, the next
 * key is made and signed (by {@link NextCaSigner}, or by the operator through {@code ca install}) and the next CA's
 * roots are published in the site bundle; when a sixth is left, and not before the bundle that names it went out, the
 * next CA becomes the active one. The previous CA's roots stay in the bundle until it expires, so SVIDs it signed keep
 * verifying until their own end.
 *
 * <p>{@link #tick()} does file I/O, key generation and (online) network calls: run it on a worker. All methods are
 * synchronized: the timer, the admin API and start-up never interleave on the CA directory.
 */
public final class CaRotation {
    private static final Logger LOG = LoggerFactory.getLogger(CaRotation.class);
    static final Duration FIRST_RETRY = Duration.ofMinutes(1);
    static final Duration MAX_RETRY = Duration.ofHours(1);

    /** Where rotation stands; the metric {@code outpost_ca_rotation_state{state=...}} is 1 for the current one. */
    public enum State {
        /** More than half of the CA's lifetime is left. */
        NONE,
        /** Getting the next CA signed now. */
        PREPARING,
        /** The signer could not sign (offline, refused): retrying with back-off; the file flow also works. */
        RETRYING,
        /** A nested site without a link: the next key and CSR are made, the operator must sign and install it. */
        AWAITING_INSTALL,
        /** The next CA is signed and in the bundle; it becomes active at 1/6 of the current lifetime left. */
        PREPARED,
        /** The active CA expired: nothing is issued until a new one is installed or signed. */
        EXPIRED;

        public String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    private final SiteCa ca;
    private final CaFiles files;
    private final CaInstaller installer;
    private final NextCaSigner signer;
    private final Clock clock;
    private final Runnable bundleChanged;
    private volatile State state = State.NONE;
    private volatile String reason = "";
    private Instant nextAttempt = Instant.MIN;
    private Duration backoff = FIRST_RETRY;
    /** The anchors last handed out; activation waits until the next CA's have been. */
    private List<X509Certificate> published = List.of();
    private boolean nextPublished;
    private volatile Runnable activated = () -> { };
    private volatile java.util.function.BiConsumer<State, String> transition = (s, why) -> { };

    /**
     * @param signer        null: no one signs automatically (nested without a link); the operator installs by file
     * @param bundleChanged called (on the caller's thread) after {@link SiteCa#trustAnchors()} changed: bump the
     *                      bundle sequence, hand the bundle to devices and to the endpoint's client trust
     */
    public CaRotation(SiteCa ca, CaFiles files, CaInstaller installer, NextCaSigner signer, Clock clock,
            Runnable bundleChanged) {
        this.ca = ca;
        this.files = files;
        this.installer = installer;
        this.signer = signer;
        this.clock = clock;
        this.bundleChanged = bundleChanged;
        this.published = ca.trustAnchors();
    }

    public State state() {
        return state;
    }

    /**
     * Called (on the rotating thread) after a new CA became active: whatever certificates the appliance issued itself
     * from the old one (the endpoint's server certificate) are reissued, since they die with the old CA.
     */
    public void onActivated(Runnable r) {
        this.activated = r;
    }

    /** Why the state is what it is, in words for the operator; empty when there is nothing to say. */
    public String reason() {
        return reason;
    }

    /** One step of the rule; returns the state after it. */
    public synchronized State tick() {
        Instant now = clock.instant();
        try {
            Optional<CaFiles.Next> next = usableNext(now);
            republish(now, next);
            if (ca.expired()) {
                if (next.isPresent()) {
                    // Nothing can be issued: waiting for devices to see the bundle buys nothing now.
                    activate(now);
                    return state;
                }
                prepare(now);
                if (usableNext(now).isPresent()) {
                    activate(now);
                    return state;
                }
                set(State.EXPIRED, "ca expired: the site CA expired at " + ca.notAfter() + (reason.isEmpty() ? ""
                        : "; " + reason));
                return state;
            }
            Instant notBefore = ca.certificate().getNotBefore().toInstant();
            Duration life = Duration.between(notBefore, ca.notAfter());
            Duration left = Duration.between(now, ca.notAfter());
            if (next.isPresent()) {
                if (left.compareTo(life.dividedBy(6)) <= 0 && nextPublished) {
                    activate(now);
                } else {
                    nextPublished = true;
                    set(State.PREPARED, "next CA " + next.get().certificate().getSubjectX500Principal() + " valid until "
                            + next.get().certificate().getNotAfter().toInstant() + " is published; it becomes active at "
                            + activateAt());
                }
                return state;
            }
            if (left.compareTo(life.dividedBy(2)) <= 0) {
                prepare(now);
                if (state == State.PREPARED) {
                    republish(now, usableNext(now));
                    // Published now; the switch waits for the next tick even when 1/6 is already past.
                    nextPublished = true;
                }
            } else {
                set(State.NONE, "");
            }
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            LOG.warn("CA rotation step failed: {}", e.getMessage());
            reason = "rotation step failed: " + e.getMessage();
        }
        return state;
    }

    /** When the next CA is made (1/2 of the active CA's lifetime left). */
    public Instant prepareAt() {
        Instant nb = ca.certificate().getNotBefore().toInstant();
        return ca.notAfter().minus(Duration.between(nb, ca.notAfter()).dividedBy(2));
    }

    /** When the next CA becomes active (1/6 left). */
    public Instant activateAt() {
        Instant nb = ca.certificate().getNotBefore().toInstant();
        return ca.notAfter().minus(Duration.between(nb, ca.notAfter()).dividedBy(6));
    }

    /** How the CA's keys are kept at rest, for {@code ca show}: see {@link CaKeys#describe()}. */
    public String keyProtection() {
        return files.keys().describe();
    }

    /** {@code ca csr} on a running appliance: the pending key's request (the operator's fallback while offline). */
    public synchronized String csr(boolean newKey) throws IOException, GeneralSecurityException {
        String pem = installer.csr(newKey);
        if (newKey) {
            nextPublished = false;
            republish(clock.instant(), Optional.empty());
        }
        return pem;
    }

    /**
     * {@code ca install} on a running appliance: checked, stored, and active at once when the active CA is expired,
     * else published as the next CA and activated by the rule.
     */
    public synchronized CaInstaller.Outcome install(String certPem, String chainPem) throws IOException, GeneralSecurityException {
        boolean expired = ca.expired();
        CaInstaller.Outcome o = installer.install(certPem, chainPem, true);
        Instant now = clock.instant();
        if (expired) {
            activate(now);
            return CaInstaller.Outcome.ACTIVE;
        }
        republish(now, usableNext(now));
        nextPublished = false;
        set(State.PREPARED, "next CA installed; it becomes active at " + activateAt());
        return o;
    }

    private void prepare(Instant now) throws IOException, GeneralSecurityException {
        PrivateKey key = files.nextKey(false);
        if (signer == null) {
            String csr = installer.csr(false);
            if (state != State.AWAITING_INSTALL) {
                LOG.warn("the site CA {} at {}: the next CA must be signed upstream; its request is {} "
                        + "(or run `outpost-appliance ca csr --out FILE`), install the result with `outpost-appliance "
                        + "ca install --cert FILE --chain FILE`", ca.expired() ? "EXPIRED" : "expires",
                        ca.notAfter(), files.path(CaFiles.NEXT_CSR));
            }
            set(State.AWAITING_INSTALL, "the next CA awaits `ca install` (request in " + files.path(CaFiles.NEXT_CSR)
                    + ", " + csr.length() + " bytes)");
            return;
        }
        if (now.isBefore(nextAttempt)) {
            return;
        }
        set(state == State.RETRYING ? State.RETRYING : State.PREPARING, reason);
        try {
            String csr = installer.csr(false);
            NextCaSigner.Signed s = signer.sign(new KeyPair(CaCsr.publicOf(key), key), csr);
            InstallCheck.Accepted a = installer.check(s.certificatePem(), s.chainPem());
            files.writeNext(a);
            backoff = FIRST_RETRY;
            nextAttempt = Instant.MIN;
            LOG.info("next site CA signed by {}: {} valid until {}", signer.describe(),
                    a.certificate().getSubjectX500Principal(), a.certificate().getNotAfter().toInstant());
            set(State.PREPARED, "next CA signed by " + signer.describe());
        } catch (Exception e) {
            nextAttempt = now.plus(backoff);
            String why = e.getMessage() == null ? e.toString() : e.getMessage();
            LOG.warn("the next site CA could not be signed by {} ({}); retrying at {} (the file flow also works: "
                    + "outpost-appliance ca csr / ca install)", signer.describe(), why, nextAttempt);
            set(State.RETRYING, "signing the next CA failed: " + why + "; next attempt at " + nextAttempt);
            Duration doubled = backoff.multipliedBy(2);
            backoff = doubled.compareTo(MAX_RETRY) > 0 ? MAX_RETRY : doubled;
        }
    }

    private void activate(Instant now) throws IOException, GeneralSecurityException {
        files.switchToNext();
        SiteCa fresh = SiteCa.load(files.dir(), files.keys(), ca.trustDomain(), clock);
        ca.activate(fresh);
        nextPublished = false;
        republish(now, Optional.empty());
        LOG.info("site CA rotated: {} is active until {}", fresh.certificate().getSubjectX500Principal(), fresh.notAfter());
        set(State.NONE, "");
        try {
            activated.run();
        } catch (RuntimeException e) {
            LOG.error("after the CA switch: {}", e.getMessage(), e);
        }
    }

    /** A next CA on disk whose key is ours and which has not expired. */
    private Optional<CaFiles.Next> usableNext(Instant now) throws IOException, GeneralSecurityException {
        Optional<CaFiles.Next> next = files.next();
        if (next.isPresent() && !now.isBefore(next.get().certificate().getNotAfter().toInstant())) {
            LOG.warn("dropping the next CA in {}: it expired at {} before it became active", files.dir(),
                    next.get().certificate().getNotAfter().toInstant());
            files.dropNext();
            return Optional.empty();
        }
        return next;
    }

    /** Sets the anchors published with ours (next, previous) and reports a change. */
    private void republish(Instant now, Optional<CaFiles.Next> next) throws IOException, GeneralSecurityException {
        List<X509Certificate> extra = new ArrayList<>();
        next.ifPresent(n -> extra.addAll(n.anchors()));
        extra.addAll(files.previousAnchors(now));
        ca.publishAlongside(extra);
        List<X509Certificate> anchors = ca.trustAnchors();
        if (!sameSet(anchors, published)) {
            published = anchors;
            LOG.info("site bundle now holds {} root(s): {}", anchors.size(),
                    anchors.stream().map(c -> c.getSubjectX500Principal().getName() + " until "
                            + c.getNotAfter().toInstant()).toList());
            bundleChanged.run();
        }
    }

    private static boolean sameSet(List<X509Certificate> a, List<X509Certificate> b) {
        return a.size() == b.size() && SiteCa.distinct(concat(a, b)).size() == a.size();
    }

    private static List<X509Certificate> concat(List<X509Certificate> a, List<X509Certificate> b) {
        List<X509Certificate> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private void set(State s, String why) {
        State was = state;
        if (s != state) {
            LOG.info("CA rotation: {} -> {}{}", state.label(), s.label(), why.isEmpty() ? "" : " (" + why + ")");
        }
        state = s;
        reason = why;
        if (s != was) {
            try {
                transition.accept(s, why);
            } catch (RuntimeException e) {
                // A listener (the outbox toward central) must not stop the rotation itself.
                LOG.error("CA rotation listener failed on {}: {}", s.label(), e.toString());
            }
        }
    }

    /** Called (on the rotating thread) on every change of state, with the reason: central hears of prepared and expired CAs. */
    public void onTransition(java.util.function.BiConsumer<State, String> listener) {
        this.transition = listener;
    }

    /** The rotation part of {@code ca show}. */
    public synchronized Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("state", state.label());
        m.put("reason", reason);
        m.put("prepareAt", prepareAt().toString());
        m.put("activateAt", activateAt().toString());
        m.put("signer", signer == null ? "operator (ca install)" : signer.describe());
        try {
            Optional<CaFiles.Next> next = files.next();
            if (next.isPresent()) {
                m.put("next", Map.of("subject", next.get().certificate().getSubjectX500Principal().getName(),
                        "notAfter", next.get().certificate().getNotAfter().toInstant().toString()));
            } else if (files.hasNextKey()) {
                m.put("next", Map.of("pending", "key made, awaiting a signed certificate"));
            }
        } catch (IOException | GeneralSecurityException e) {
            m.put("next", Map.of("error", e.getMessage()));
        }
        return m;
    }
}
