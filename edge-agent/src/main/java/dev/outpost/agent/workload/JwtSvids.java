package dev.outpost.agent.workload;

import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import dev.outpost.agent.workload.WorkloadAttestor.Workload;
import dev.outpost.agent.workload.WorkloadIssuer.IssuerException;
import dev.outpost.mqtt.protocol.Messages;
import dev.outpost.mqtt.protocol.WorkloadEntry;
import dev.outpost.mqtt.protocol.WorkloadJwtIssued;
import dev.outpost.mqtt.protocol.WorkloadJwtRequest;

/**
 * JWT-SVIDs by (entry, audience set), kept until half their life: the JWT authority key stays at the appliance, so
 * a token is reused rather than signed anew for every call, and a device cut off keeps serving one until then
 * (never past its {@code exp}). Bounded: the oldest go first.
 */
final class JwtSvids {
    static final int MAX_CACHED = 1024;

    record Held(String spiffeId, String token, Instant issuedAt, Instant expiresAt) {
        boolean fresh(Instant now) {
            return now.isBefore(issuedAt.plusMillis((expiresAt.toEpochMilli() - issuedAt.toEpochMilli()) / 2));
        }
    }

    private record Key(String entryId, List<String> audience) {
    }

    private final WorkloadIssuer issuer;
    private final Clock clock;
    private final Map<Key, Held> cache = new LinkedHashMap<>(16, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, Held> eldest) {
            return size() > MAX_CACHED;
        }
    };

    JwtSvids(WorkloadIssuer issuer, Clock clock) {
        this.issuer = issuer;
        this.clock = clock;
    }

    Held get(WorkloadEntry entry, List<String> audience, Workload caller) throws IssuerException {
        Key k = new Key(entry.id(), List.copyOf(new TreeSet<>(audience)));
        Instant now = clock.instant();
        Held cached;
        synchronized (this) {
            cached = cache.get(k);
        }
        if (cached != null && cached.fresh(now)) {
            return cached;
        }
        boolean ima = entry.selectors().contains("ima:verified");
        try {
            WorkloadJwtIssued t = issuer.jwt(new WorkloadJwtRequest(Messages.VERSION, entry.id(), k.audience(),
                    ima ? caller.path() : null, ima ? caller.sha256() : null));
            Held h = new Held(entry.spiffeId(), t.token(), now, Instant.ofEpochMilli(t.expiresAt()));
            synchronized (this) {
                cache.put(k, h);
            }
            return h;
        } catch (IssuerException e) {
            // Unreachable appliance: a token we hold serves until its exp. A refusal means no token at all.
            if (e.code() == null && cached != null && now.isBefore(cached.expiresAt())) {
                return cached;
            }
            throw e;
        }
    }

    synchronized void dropEntry(String entryId) {
        cache.keySet().removeIf(k -> k.entryId().equals(entryId));
    }

    synchronized void clear() {
        cache.clear();
    }
}
