package dev.outpost.appliance.store;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Turns a burst of identical refusals into two audit rows: the first, as it happened, and at the end of its window
 * one that says how many more there were and the last reason. A device sending refused requests as fast as it could
 * wrote thousands of rows a minute (the H2 file grew 5 to 91 MB); an operator needs the fact and the count, not the
 * copies. Refusals are alike when device, action and error code match. Thread-safe.
 */
final class RefusalCoalescer {
    static final Duration WINDOW = Duration.ofMinutes(1);
    // Many distinct keys (ids claimed by clients without SVID) end every window early rather than grow the map.
    static final int MAX_KEYS = 50_000;

    private record Key(String deviceId, String action, String code) {
    }

    private static final class Window {
        final Instant start;
        long repeats;
        Instant last;
        String lastReason;

        Window(Instant start) {
            this.start = start;
            this.last = start;
        }
    }

    private final Map<Key, Window> windows = new ConcurrentHashMap<>();

    /**
     * Notes a refusal. Returns the rows to write now: the refusal itself when it opens a window (preceded by the
     * summary of the window it replaces, if that had repeats), nothing when it is a repeat inside an open window.
     */
    List<AuditEvent> offer(AuditEvent e) {
        Key key = new Key(e.deviceId(), e.action(), code(e.reason()));
        List<AuditEvent> out = new ArrayList<>(2);
        windows.compute(key, (k, w) -> {
            if (w != null && e.at().isBefore(w.start.plus(WINDOW))) {
                w.repeats++;
                w.last = e.at();
                w.lastReason = e.reason();
                return w;
            }
            if (w != null && w.repeats > 0) {
                out.add(summary(k, w));
            }
            out.add(e);
            return new Window(e.at());
        });
        if (windows.size() > MAX_KEYS) {
            out.addAll(closeAll());
        }
        return out;
    }

    /** Closes the windows that ended by {@code now}; returns the summaries of those that had repeats. */
    List<AuditEvent> closeEnded(Instant now) {
        List<AuditEvent> out = new ArrayList<>();
        for (Iterator<Map.Entry<Key, Window>> it = windows.entrySet().iterator(); it.hasNext();) {
            Map.Entry<Key, Window> en = it.next();
            Window w = en.getValue();
            if (!now.isBefore(w.start.plus(WINDOW))) {
                // remove(key, value): a window replaced meanwhile by offer() is left alone
                if (windows.remove(en.getKey(), w) && w.repeats > 0) {
                    out.add(summary(en.getKey(), w));
                }
            }
        }
        return out;
    }

    private List<AuditEvent> closeAll() {
        List<AuditEvent> out = new ArrayList<>();
        for (Map.Entry<Key, Window> en : windows.entrySet()) {
            if (windows.remove(en.getKey(), en.getValue()) && en.getValue().repeats > 0) {
                out.add(summary(en.getKey(), en.getValue()));
            }
        }
        return out;
    }

    private static AuditEvent summary(Key k, Window w) {
        return AuditEvent.of(w.last, k.deviceId(), k.action(), AuditEvent.Decision.DENY,
                "refused " + w.repeats + " more time" + (w.repeats == 1 ? "" : "s") + " between " + w.start + " and "
                        + w.last + "; last: " + w.lastReason,
                "repeated refusals counted, not stored one by one");
    }

    // Refusal reasons start with their error code ("RATE_LIMITED: ...").
    private static String code(String reason) {
        int colon = reason.indexOf(':');
        return colon > 0 && colon <= 32 ? reason.substring(0, colon) : reason;
    }
}
