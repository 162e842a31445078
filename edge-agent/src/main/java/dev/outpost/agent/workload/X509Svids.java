package dev.outpost.agent.workload;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.outpost.agent.state.AgentState;
import dev.outpost.agent.workload.WorkloadAttestor.Workload;
import dev.outpost.agent.workload.WorkloadIssuer.IssuerException;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.Messages;
import dev.outpost.mqtt.protocol.WorkloadEntry;
import dev.outpost.mqtt.protocol.WorkloadSvidIssued;
import dev.outpost.mqtt.protocol.WorkloadSvidRequest;

/**
 * The X509-SVIDs the agent holds, one per entry (with its key), fetched from the appliance when first needed and
 * renewed from half life on. What the appliance returns is checked before it is served: the leaf carries our key
 * and the entry's SPIFFE ID, and it is valid now.
 */
final class X509Svids {
    /** One entry's SVID; {@code imaPath}/{@code imaSha256} are kept to renew an {@code ima:verified} entry. */
    record Held(WorkloadEntry entry, KeyPair key, List<X509Certificate> chain, String imaPath, String imaSha256) {
        Instant notBefore() {
            return chain.get(0).getNotBefore().toInstant();
        }

        Instant expiresAt() {
            return chain.get(0).getNotAfter().toInstant();
        }

        Instant renewAt() {
            return notBefore().plusMillis(Duration.between(notBefore(), expiresAt()).toMillis() / 2);
        }
    }

    private final WorkloadIssuer issuer;
    private final Clock clock;
    private final Map<String, Held> held = new ConcurrentHashMap<>();
    private final Map<String, Object> locks = new ConcurrentHashMap<>();
    // After a failed renewal, the next try waits: an unreachable appliance is not asked every tick for every entry.
    static final Duration RETRY = Duration.ofSeconds(30);
    private final Map<String, Instant> retryAt = new ConcurrentHashMap<>();
    // Moves on clear(): an answer to a request sent before the node's identities were withdrawn is not kept.
    private final java.util.concurrent.atomic.AtomicLong generation = new java.util.concurrent.atomic.AtomicLong();

    X509Svids(WorkloadIssuer issuer, Clock clock) {
        this.issuer = issuer;
        this.clock = clock;
    }

    /** The entry's SVID: the one held while it is valid, else a new one from the appliance. */
    Held get(WorkloadEntry entry, Workload caller) throws IssuerException, GeneralSecurityException {
        Held h = valid(entry.id());
        if (h != null && h.entry().equals(entry)) {
            return h;
        }
        synchronized (locks.computeIfAbsent(entry.id(), k -> new Object())) {
            h = valid(entry.id());
            if (h != null && h.entry().equals(entry)) {
                return h;
            }
            return fetch(entry, caller.path(), caller.sha256(), entry.selectors().contains("ima:verified"));
        }
    }

    /** Renews one held SVID (a new key, a new CSR); the old one stays served if this fails. */
    Held renew(Held old) throws IssuerException, GeneralSecurityException {
        synchronized (locks.computeIfAbsent(old.entry().id(), k -> new Object())) {
            try {
                Held h = fetch(old.entry(), old.imaPath(), old.imaSha256(), old.imaPath() != null);
                retryAt.remove(old.entry().id());
                return h;
            } catch (IssuerException | GeneralSecurityException e) {
                retryAt.put(old.entry().id(), clock.instant().plus(RETRY));
                throw e;
            }
        }
    }

    private Held fetch(WorkloadEntry entry, String path, String sha256, boolean ima)
            throws IssuerException, GeneralSecurityException {
        long asked = generation.get();
        KeyPair key = WorkloadCsr.newKey();
        byte[] csr = WorkloadCsr.csr(key, entry.spiffeId(), entry.dnsNames());
        WorkloadSvidIssued issued = issuer.svid(new WorkloadSvidRequest(Messages.VERSION, entry.id(), Codec.base64(csr),
                ima ? path : null, ima ? sha256 : null));
        List<X509Certificate> chain = AgentState.certificates(issued.svidPem());
        if (chain.isEmpty() || chain.size() > 8) {
            throw new GeneralSecurityException("workload SVID for " + entry.spiffeId() + ": " + chain.size() + " certificates");
        }
        X509Certificate leaf = chain.get(0);
        if (!java.util.Arrays.equals(leaf.getPublicKey().getEncoded(), key.getPublic().getEncoded())) {
            throw new GeneralSecurityException("workload SVID for " + entry.spiffeId() + " is not for the key we sent");
        }
        if (!entry.spiffeId().equals(uriSan(leaf))) {
            throw new GeneralSecurityException("workload SVID names " + uriSan(leaf) + ", the entry says " + entry.spiffeId());
        }
        Instant now = clock.instant();
        if (now.isAfter(leaf.getNotAfter().toInstant())) {
            throw new GeneralSecurityException("workload SVID for " + entry.spiffeId() + " has already expired");
        }
        Held h = new Held(entry, key, List.copyOf(chain), ima ? path : null, ima ? sha256 : null);
        synchronized (generation) {
            if (generation.get() == asked) {
                held.put(entry.id(), h);
            }
        }
        return h;
    }

    private Held valid(String entryId) {
        Held h = held.get(entryId);
        return h != null && clock.instant().isBefore(h.expiresAt()) ? h : null;
    }

    /** Held SVIDs past half life (still valid): to renew. */
    List<Held> due() {
        Instant now = clock.instant();
        List<Held> out = new ArrayList<>();
        for (Held h : held.values()) {
            Instant wait = retryAt.get(h.entry().id());
            if (!now.isBefore(h.renewAt()) && now.isBefore(h.expiresAt()) && (wait == null || !now.isBefore(wait))) {
                out.add(h);
            }
        }
        return out;
    }

    /** Drops SVIDs that have expired; returns their entry ids. Never served beyond their end. */
    List<String> dropExpired() {
        Instant now = clock.instant();
        List<String> gone = new ArrayList<>();
        held.entrySet().removeIf(e -> {
            boolean expired = !now.isBefore(e.getValue().expiresAt());
            if (expired) {
                gone.add(e.getKey());
                retryAt.remove(e.getKey());
            }
            return expired;
        });
        return gone;
    }

    void drop(String entryId) {
        held.remove(entryId);
        retryAt.remove(entryId);
    }

    void clear() {
        synchronized (generation) {
            generation.incrementAndGet();
            held.clear();
            retryAt.clear();
        }
    }

    Held current(String entryId) {
        return valid(entryId);
    }

    int size() {
        return held.size();
    }

    static String uriSan(X509Certificate c) {
        try {
            var sans = c.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (Integer.valueOf(6).equals(san.get(0))) {
                        return (String) san.get(1);
                    }
                }
            }
        } catch (java.security.cert.CertificateParsingException ignored) {
            // none readable
        }
        return null;
    }
}
