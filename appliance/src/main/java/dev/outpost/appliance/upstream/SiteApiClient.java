package dev.outpost.appliance.upstream;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * HTTPS to central's site API with the JDK's {@link HttpClient}: blocking calls on the caller's (worker) thread.
 * Chosen over Vert.x WebClient because the calls are rare (a join, a CA every few weeks, a bundle every few minutes),
 * the appliance has no web-client dependency today, and a blocking client keeps the join's TPM steps and HTTP steps in
 * one readable sequence on one worker. Trust: only {@code upstream.caFile} (never the system's CAs), host name checked.
 * Every call has a connect timeout and a deadline over the whole exchange; every response is size-limited as it
 * arrives, before it is parsed.
 */
public final class SiteApiClient {
    private final URI base;
    private final HttpClient http;
    private final Duration requestTimeout;

    /**
     * @param credentialKey   the site credential's key, or null before the site has joined
     * @param credentialChain its certificate chain (leaf first), or null
     */
    public SiteApiClient(URI base, List<X509Certificate> centralRoots, PrivateKey credentialKey,
            List<X509Certificate> credentialChain, Duration connectTimeout, Duration requestTimeout)
            throws GeneralSecurityException, IOException {
        this.base = base;
        this.requestTimeout = requestTimeout;
        this.http = HttpClient.newBuilder()
                .sslContext(tls(centralRoots, credentialKey, credentialChain))
                .connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NEVER)
                .version(HttpClient.Version.HTTP_1_1)
                .build();
    }

    private static SSLContext tls(List<X509Certificate> roots, PrivateKey key, List<X509Certificate> chain)
            throws GeneralSecurityException, IOException {
        if (roots.isEmpty()) {
            throw new GeneralSecurityException("upstream.caFile holds no certificate");
        }
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        int i = 0;
        for (X509Certificate r : roots) {
            trust.setCertificateEntry("central-" + i++, r);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        KeyManagerFactory kmf = null;
        if (key != null) {
            char[] pw = new char[0];
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("site", key, pw, chain.toArray(new X509Certificate[0]));
            kmf = KeyManagerFactory.getInstance("PKIX");
            kmf.init(ks, pw);
        }
        SSLContext ctx = SSLContext.getInstance("TLSv1.3");
        ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }

    /** POST a JSON body; the response body of a 200. */
    public byte[] post(String path, String json) throws UpstreamException {
        return post(path, json, requestTimeout);
    }

    /** POST with a deadline of its own (the join: see UpstreamLink#JOIN_TIMEOUT). */
    public byte[] post(String path, String json, Duration timeout) throws UpstreamException {
        return send(postRequest(path, json, timeout), path, null, timeout).orElseThrow();
    }

    /**
     * POST a JSON body and return the status with the body, whatever the status: for {@code /v1/site/events}, whose
     * 409 carries where to resume. Only no answer at all is an exception.
     */
    public Exchange exchange(String path, String json) throws UpstreamException {
        HttpResponse<byte[]> r = call(postRequest(path, json, requestTimeout), path, requestTimeout);
        return new Exchange(r.statusCode(), r.body());
    }

    public record Exchange(int status, byte[] body) {
    }

    /** GET with {@code If-None-Match: "<sequence>"}; empty on 304. */
    public Optional<byte[]> get(String path, Long knownSequence) throws UpstreamException {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(requestTimeout).GET();
        if (knownSequence != null) {
            b.header("If-None-Match", "\"" + knownSequence + "\"");
        }
        return send(b.build(), path, knownSequence, requestTimeout);
    }

    public URI base() {
        return base;
    }

    private HttpRequest postRequest(String path, String json, Duration timeout) {
        return HttpRequest.newBuilder(base.resolve(path)).timeout(timeout)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8)).build();
    }

    private Optional<byte[]> send(HttpRequest req, String path, Long knownSequence, Duration timeout)
            throws UpstreamException {
        HttpResponse<byte[]> r = call(req, path, timeout);
        byte[] body = r.body();
        if (r.statusCode() == 304 && knownSequence != null) {
            return Optional.empty();
        }
        if (r.statusCode() != 200) {
            throw new UpstreamException(r.statusCode(), SiteApiMessages.errorCode(body), "central refused " + path
                    + " (" + r.statusCode() + " " + SiteApiMessages.errorMessage(body) + ")");
        }
        return Optional.of(body);
    }

    /**
     * One exchange with a deadline over all of it: the JDK's request timeout ends when the answer's headers arrive,
     * so a central (or a half-open link) that sends headers and then stalls would hold the caller forever. The
     * future is cancelled at the deadline, which aborts the exchange and closes its connection.
     */
    private HttpResponse<byte[]> call(HttpRequest req, String path, Duration timeout) throws UpstreamException {
        CompletableFuture<HttpResponse<byte[]>> f = http.sendAsync(req,
                info -> new LimitedBody(SiteApiMessages.MAX_RESPONSE_BYTES));
        try {
            return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new UpstreamException("central did not answer in " + timeout.toSeconds() + " s (" + where(path)
                    + ")", new HttpTimeoutException("request deadline"));
        } catch (ExecutionException e) {
            Throwable c = e.getCause() == null ? e : e.getCause();
            if (c instanceof LimitedBody.TooLarge) {
                throw new UpstreamException(0, null, "central's response is over " + SiteApiMessages.MAX_RESPONSE_BYTES
                        + " bytes: refused");
            }
            throw new UpstreamException("central unreachable (" + where(path) + "): "
                    + (c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage()), c);
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new UpstreamException("interrupted", e);
        }
    }

    private String where(String path) {
        return base.getHost() + (base.getPort() < 0 ? "" : ":" + base.getPort()) + ", " + path;
    }
}
