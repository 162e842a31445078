package dev.outpost.mqtt.endpoint;

import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

import dev.outpost.mqtt.protocol.Kind;
import io.vertx.core.Future;
import io.vertx.core.Promise;

/**
 * Replies by (device, correlation data), so a device that repeats a request (after a reconnect, say) gets the same
 * answer and the appliance acts once. Bounded (LRU) and expiring. An entry holds a future, so a duplicate that
 * arrives while the first is still being worked on waits for the same reply. Whether the connection held an SVID is
 * part of the key: a client without one, which may claim any device id, never reads an SVID holder's reply.
 * Bounded by entries and by reply bytes (replies can be up to the payload limit each). Thread-safe; every
 * operation is a few map steps under one lock.
 */
final class ResponseCache {
    static final long DEFAULT_MAX_BYTES = 32L * 1024 * 1024;

    private final int maxEntries;
    private final long maxBytes;
    private final long ttlNanos;
    private long bytes;
    private final LongSupplier clock;
    private final LinkedHashMap<Key, Entry> entries;

    record Key(String deviceId, boolean authenticated, String correlationHex) {
        static Key of(String deviceId, boolean authenticated, byte[] correlation) {
            return new Key(deviceId, authenticated, HexFormat.of().formatHex(correlation));
        }
    }

    private static final class Entry {
        final Kind kind;
        final Promise<byte[]> reply;
        final long expiresAt;
        int size;

        Entry(Kind kind, Promise<byte[]> reply, long expiresAt) {
            this.kind = kind;
            this.reply = reply;
            this.expiresAt = expiresAt;
        }
    }

    /** What a lookup found: a reply (maybe still pending) to reuse, or a fresh promise the caller must complete. */
    record Lookup(Future<byte[]> existing, Promise<byte[]> fresh) {
        boolean hit() {
            return existing != null;
        }
    }

    ResponseCache(int maxEntries, Duration ttl) {
        this(maxEntries, DEFAULT_MAX_BYTES, ttl, System::nanoTime);
    }

    ResponseCache(int maxEntries, long maxBytes, Duration ttl, LongSupplier clock) {
        this.maxEntries = maxEntries;
        this.maxBytes = maxBytes;
        this.ttlNanos = ttl.toNanos();
        this.clock = clock;
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<Key, Entry> eldest) {
                if (size() > ResponseCache.this.maxEntries) {
                    bytes -= eldest.getValue().size;
                    return true;
                }
                return false;
            }
        };
    }

    /**
     * The cached reply for this key and kind, or a fresh promise registered under the key. The same correlation data
     * with another kind is a new request (agents that count correlation ids from zero after a restart do this), and
     * replaces the entry.
     */
    synchronized Lookup lookupOrReserve(Key key, Kind kind) {
        long now = clock.getAsLong();
        Entry e = entries.get(key);
        if (e != null && e.kind == kind && now - e.expiresAt < 0) {
            return new Lookup(e.reply.future(), null);
        }
        Promise<byte[]> p = Promise.promise();
        Entry old = entries.put(key, new Entry(kind, p, now + ttlNanos));
        if (old != null) {
            bytes -= old.size;
        }
        p.future().onSuccess(reply -> account(key, p, reply.length));
        return new Lookup(null, p);
    }

    private synchronized void account(Key key, Promise<byte[]> reply, int size) {
        Entry e = entries.get(key);
        if (e == null || e.reply != reply) {
            return;
        }
        e.size = size;
        bytes += size;
        var it = entries.values().iterator();
        while (bytes > maxBytes && it.hasNext()) {
            Entry eldest = it.next();
            bytes -= eldest.size;
            it.remove();
        }
    }

    synchronized long bytes() {
        return bytes;
    }

    /** Drops the entry if it is still this promise's: for replies a repeat should not get (INTERNAL, RATE_LIMITED). */
    synchronized void forget(Key key, Promise<byte[]> reply) {
        Entry e = entries.get(key);
        if (e != null && e.reply == reply) {
            entries.remove(key);
            bytes -= e.size;
        }
    }

    synchronized int size() {
        return entries.size();
    }
}
