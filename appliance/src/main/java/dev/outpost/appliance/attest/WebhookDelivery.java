package dev.outpost.appliance.attest;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.appliance.store.WebhookQueue;
import dev.outpost.spiffe.KeyFiles;
import dev.outpost.spiffe.PemIo;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Delivers revocation events to the site's webhook from a queue in the database ({@link WebhookQueue}): an event is
 * written before its first try and deleted on a 2xx, so a receiver that is down for an hour, or an appliance restarted
 * meanwhile, delays it and never loses it. Events go one at a time in the order they were revoked; a failed try stops
 * the round (the receiver is down: the rest waits behind it) and the next round waits twice as long as the last, up to
 * five minutes. Past {@link #MAX_WAITING} waiting events the oldest are dropped, with an error in the log and a count.
 *
 * <p>{@link #drain} is blocking (JDBC, HTTP): a worker runs it, one call at a time.
 */
public final class WebhookDelivery {
    private static final Logger LOG = LoggerFactory.getLogger(WebhookDelivery.class);
    /** ~6 MiB of signed events; a receiver down long enough for more than that has missed whole fleets. */
    public static final int MAX_WAITING = 10_000;
    static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
    static final Duration MAX_BACKOFF = Duration.ofMinutes(5);
    private static final int ROUND = 32;
    private static final int MAX_AUTHORIZATION_BYTES = 4096;

    private final WebhookQueue queue;
    private final URI url;
    private final Clock clock;
    private final Duration timeout;
    private final int maxWaiting;
    private final Path authorization;
    private final HttpClient http;
    private final AtomicLong added = new AtomicLong();
    private final AtomicLong waiting = new AtomicLong();
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong failedTries = new AtomicLong();
    // What `added` was when a round last found the queue empty: nothing to read until it moves.
    private volatile long emptyAt = -1;
    private volatile int failures;
    private volatile Instant nextTry = Instant.MIN;
    private volatile String lastError;

    /**
     * @param url               https:// (http:// only with {@code allowInsecureHttp}: events in clear text)
     * @param timeout           how long one try may take, connection included
     */
    public WebhookDelivery(WebhookQueue queue, String url, boolean allowInsecureHttp, Clock clock, Duration timeout) {
        this(queue, url, allowInsecureHttp, null, null, clock, timeout, MAX_WAITING);
    }

    /**
     * @param tls           what to trust for an https receiver ({@link #trusting}), or null for the JDK's trust store
     * @param authorization a file whose line is sent as the {@code Authorization} header ({@link #authorization}),
     *                      read again for every round, so a new credential needs no restart; or null for none
     */
    public WebhookDelivery(WebhookQueue queue, String url, boolean allowInsecureHttp, SSLContext tls,
            Path authorization, Clock clock, Duration timeout) {
        this(queue, url, allowInsecureHttp, tls, authorization, clock, timeout, MAX_WAITING);
    }

    WebhookDelivery(WebhookQueue queue, String url, boolean allowInsecureHttp, SSLContext tls, Path authorization,
            Clock clock, Duration timeout, int maxWaiting) {
        // The configuration is validated already; this keeps any other caller from sending events in clear text.
        if (url == null || !url.regionMatches(true, 0, "https://", 0, 8)
                && !(allowInsecureHttp && url.regionMatches(true, 0, "http://", 0, 7))) {
            throw new IllegalArgumentException("revocation webhook must be an https:// URL"
                    + (allowInsecureHttp ? "" : " (http:// only when explicitly allowed)") + ", got " + url);
        }
        this.queue = queue;
        this.url = URI.create(url);
        this.clock = clock;
        this.timeout = timeout;
        this.maxWaiting = maxWaiting;
        this.authorization = authorization;
        // HTTP/1.1 only: the client offers plain-text receivers an h2c upgrade otherwise, and an exchange that went
        // wrong in it was seen to outlive the request's own timeout (docs/operations.md, the monitoring port).
        // Redirects are not followed: an event goes where the operator said, or nowhere.
        HttpClient.Builder b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NEVER);
        this.http = (tls == null ? b : b.sslContext(tls)).build();
        this.waiting.set(queue.size());
    }

    /**
     * TLS that trusts only the CA certificates in {@code caFile} (PEM, at most 8) for the receiver's certificate, host
     * name checked as usual: a site's own CA, without adding it to the JDK's trust store for everything else.
     */
    public static SSLContext trusting(Path caFile) throws IOException, GeneralSecurityException {
        List<X509Certificate> anchors = PemIo.certificates(new String(KeyFiles.readLimited(caFile, 64 * 1024),
                StandardCharsets.US_ASCII), 8);
        if (anchors.isEmpty()) {
            throw new GeneralSecurityException(caFile + " holds no certificate");
        }
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        for (int i = 0; i < anchors.size(); i++) {
            trust.setCertificateEntry("anchor-" + i, anchors.get(i));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    /**
     * The {@code Authorization} header's value from {@code file}: its one line (surrounding white space dropped), at
     * most 4 KiB of printable ASCII, the file readable by its owner alone (a credential others can read is leaked).
     */
    public static String authorization(Path file) throws IOException {
        String v = new String(KeyFiles.readPrivate(file, MAX_AUTHORIZATION_BYTES), StandardCharsets.US_ASCII).strip();
        if (v.isEmpty()) {
            throw new IOException(file + " is empty: it should hold the Authorization header's value, such as "
                    + "'Bearer <token>'");
        }
        for (int i = 0; i < v.length(); i++) {
            char ch = v.charAt(i);
            if (ch < 0x20 || ch > 0x7e) {
                throw new IOException(file + " holds a character that cannot go in an HTTP header (position " + i
                        + "); it should be one line of printable ASCII, such as 'Bearer <token>'");
            }
        }
        return v;
    }

    /** Deletes what waits for a webhook that is no longer configured; returns how many. */
    public static int discardUnconfigured(WebhookQueue queue) {
        int n = queue.clear();
        if (n > 0) {
            LOG.warn("{} revocation events waited for a webhook that is no longer configured (attestation.webhook.url);"
                    + " dropped", n);
        }
        return n;
    }

    /** Queues one event for delivery (JDBC: a worker). Throws if it cannot be written. */
    public void enqueue(byte[] event) {
        queue.add(event, clock.instant());
        added.incrementAndGet();
        if (waiting.incrementAndGet() > maxWaiting) {
            int gone = queue.keepNewest(maxWaiting);
            dropped.addAndGet(gone);
            waiting.set(queue.size());
            if (gone > 0) {
                LOG.error("revocation webhook {}: the {} oldest waiting events dropped, to keep at most {} (failed tries "
                        + "in a row: {})", url, gone, maxWaiting, failures);
            }
        }
    }

    /**
     * Sends what waits, oldest first, until the queue is empty or a try fails. Returns how many were delivered.
     * Does nothing before the next try is due.
     */
    public synchronized int drain() {
        if (clock.instant().isBefore(nextTry)) {
            return 0;
        }
        int sent = 0;
        while (true) {
            long seen = added.get();
            if (seen == emptyAt) {
                return sent;
            }
            List<WebhookQueue.Waiting> round = queue.oldest(ROUND);
            if (round.isEmpty()) {
                emptyAt = seen;
                waiting.set(0);
                return sent;
            }
            String credential;
            try {
                credential = authorization == null ? null : authorization(authorization);
            } catch (IOException e) {
                failed(round.get(0), "attestation.webhook.authorizationFile: " + e.getMessage());
                return sent;
            }
            for (WebhookQueue.Waiting e : round) {
                String why = post(e.body(), credential);
                if (why != null) {
                    failed(e, why);
                    return sent;
                }
                queue.delivered(e.id());
                waiting.decrementAndGet();
                delivered.incrementAndGet();
                sent++;
                if (failures > 0) {
                    LOG.info("revocation webhook {} answers again, after {} failed tries", url, failures);
                    failures = 0;
                    nextTry = Instant.MIN;
                    lastError = null;
                }
            }
        }
    }

    private void failed(WebhookQueue.Waiting e, String why) {
        queue.failed(e.id(), why);
        failedTries.incrementAndGet();
        failures++;
        lastError = why;
        Duration wait = backoff(failures);
        nextTry = clock.instant().plus(wait);
        if (failures == 1) {
            LOG.warn("revocation webhook {}: {}; events waiting: {}; tried again in {} s, then less often (said again "
                    + "when it answers)", url, why, waiting.get(), wait.toSeconds());
        } else {
            LOG.debug("revocation webhook {}: try {} failed: {}; next in {} s", url, failures, why, wait.toSeconds());
        }
    }

    static Duration backoff(int failures) {
        Duration d = FIRST_BACKOFF.multipliedBy(1L << Math.min(failures - 1, 20));
        return d.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : d;
    }

    /** null when the receiver took the event (2xx), else why not. */
    private String post(byte[] body, String credential) {
        HttpRequest.Builder b = HttpRequest.newBuilder(url).timeout(timeout).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        HttpRequest req = (credential == null ? b : b.header("Authorization", credential)).build();
        CompletableFuture<HttpResponse<Void>> f = http.sendAsync(req, HttpResponse.BodyHandlers.discarding());
        try {
            // A deadline of our own over the client's: the try ends whatever state the exchange is stuck in.
            HttpResponse<Void> r = f.get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
            return r.statusCode() / 100 == 2 ? null : "HTTP " + r.statusCode();
        } catch (TimeoutException e) {
            f.cancel(true);
            return "no answer within " + timeout.toSeconds() + " s";
        } catch (ExecutionException e) {
            Throwable c = e.getCause() == null ? e : e.getCause();
            return c.getClass().getSimpleName() + (c.getMessage() == null ? "" : ": " + c.getMessage());
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    public long waiting() {
        return waiting.get();
    }

    /** What an operator asks of it ({@code outpost-appliance status}); from memory, no database read. */
    public Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("url", url.toString());
        m.put("waiting", waiting.get());
        m.put("delivered", delivered.get());
        m.put("dropped", dropped.get());
        int f = failures;
        m.put("failedInARow", f);
        m.put("lastError", lastError);
        m.put("nextTryAt", f == 0 ? null : nextTry.toString());
        return m;
    }

    public WebhookDelivery bind(MeterRegistry registry) {
        Gauge.builder("outpost_revocation_webhook_waiting", waiting, AtomicLong::get)
                .description("Revocation events not yet taken by the webhook").register(registry);
        FunctionCounter.builder("outpost_revocation_webhook_delivered", delivered, AtomicLong::get)
                .description("Revocation events the webhook answered with 2xx").register(registry);
        FunctionCounter.builder("outpost_revocation_webhook_failed_tries", failedTries, AtomicLong::get)
                .description("Tries the webhook did not answer with 2xx").register(registry);
        FunctionCounter.builder("outpost_revocation_webhook_dropped", dropped, AtomicLong::get)
                .description("Waiting revocation events dropped, the oldest, past the bound").register(registry);
        return this;
    }
}
