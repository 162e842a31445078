package dev.outpost.appliance.upstream;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Central's addresses ({@code upstream.urls}) and which one is in use. A call starts at the address that worked last
 * (sticky: a site does not bounce between instances while one answers) and, when that one cannot be reached, times out
 * or answers 5xx, tries the others in list order once: one round. Between rounds the caller's own back-off (with
 * jitter) decides when to try again. Shared by every caller of the link (events, bundle, directives, CA signing), so
 * all of them learn from one failover.
 */
public final class CentralAddresses {
    private static final Logger LOG = LoggerFactory.getLogger(CentralAddresses.class);

    private final List<URI> uris;
    private final AtomicInteger current = new AtomicInteger();
    private final AtomicLong failovers = new AtomicLong();

    public CentralAddresses(List<String> urls) {
        if (urls.isEmpty()) {
            throw new IllegalArgumentException("no central address");
        }
        List<URI> u = new ArrayList<>();
        for (String s : urls) {
            u.add(URI.create(s));
        }
        this.uris = List.copyOf(u);
    }

    public List<URI> all() {
        return uris;
    }

    /** The address the next call starts with (the last one that answered). */
    public URI current() {
        return uris.get(current.get());
    }

    public int currentIndex() {
        return current.get();
    }

    public long failovers() {
        return failovers.get();
    }

    /** The indexes of one round: the current address first, then the others in list order after it. */
    List<Integer> round() {
        int start = current.get();
        List<Integer> order = new ArrayList<>(uris.size());
        for (int i = 0; i < uris.size(); i++) {
            order.add((start + i) % uris.size());
        }
        return order;
    }

    /** The address at {@code index} answered: later calls start there. */
    void answered(int index) {
        int before = current.getAndSet(index);
        if (before != index) {
            failovers.incrementAndGet();
            LOG.warn("central: now using {} ({} did not answer)", uris.get(index), uris.get(before));
        }
    }

    /**
     * {@code outpost_upstream_address_active{url}} (1 for the address in use, 0 for the others) and
     * {@code outpost_upstream_failovers_total}.
     */
    public CentralAddresses bind(MeterRegistry registry) {
        for (int i = 0; i < uris.size(); i++) {
            int index = i;
            Gauge.builder("outpost_upstream_address_active", current, c -> c.get() == index ? 1 : 0)
                    .tag("url", uris.get(i).toString())
                    .description("1 for the central address the site uses now, 0 for the other configured ones")
                    .register(registry);
        }
        FunctionCounter.builder("outpost_upstream_failovers", failovers, AtomicLong::get)
                .description("Times the site moved to another central address").register(registry);
        return this;
    }

    /** For {@code outpost-appliance status}. */
    public java.util.Map<String, Object> status() {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("address", current().toString());
        m.put("addresses", uris.stream().map(URI::toString).toList());
        m.put("failovers", failovers.get());
        return m;
    }
}
