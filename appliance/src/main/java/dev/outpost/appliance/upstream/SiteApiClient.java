package dev.outpost.appliance.upstream;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * HTTPS to central's site API with the JDK's {@link HttpClient}: blocking calls on the caller's (worker) thread.
 * Chosen over Vert.x WebClient because the calls are rare (a join, a CA every few weeks, a bundle every few minutes),
 * the appliance has no web-client dependency today, and a blocking client keeps the join's TPM steps and HTTP steps in
 * one readable sequence on one worker. Trust: only {@code upstream.caFile} (never the system's CAs), host name checked.
 * Every call has a timeout; every response is size-limited before it is parsed.
 */
public final class SiteApiClient {
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

    private final URI base;
    private final HttpClient http;

    /**
     * @param credentialKey   the site credential's key, or null before the site has joined
     * @param credentialChain its certificate chain (leaf first), or null
     */
    public SiteApiClient(URI base, List<X509Certificate> centralRoots, PrivateKey credentialKey,
            List<X509Certificate> credentialChain) throws GeneralSecurityException, IOException {
        this.base = base;
        this.http = HttpClient.newBuilder()
                .sslContext(tls(centralRoots, credentialKey, credentialChain))
                .connectTimeout(CONNECT_TIMEOUT)
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
        HttpRequest req = HttpRequest.newBuilder(base.resolve(path)).timeout(REQUEST_TIMEOUT)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8)).build();
        return send(req, path, null).orElseThrow();
    }

    /**
     * POST a JSON body and return the status with the body, whatever the status: for {@code /v1/site/events}, whose
     * 409 carries where to resume. Only no answer at all is an exception.
     */
    public Exchange exchange(String path, String json) throws UpstreamException {
        HttpRequest req = HttpRequest.newBuilder(base.resolve(path)).timeout(REQUEST_TIMEOUT)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8)).build();
        try {
            HttpResponse<InputStream> r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
            return new Exchange(r.statusCode(), limited(r.body()));
        } catch (IOException e) {
            throw new UpstreamException("central unreachable (" + base.getHost() + ", " + path + "): "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UpstreamException("interrupted", e);
        }
    }

    public record Exchange(int status, byte[] body) {
    }

    /** GET with {@code If-None-Match: "<sequence>"}; empty on 304. */
    public Optional<byte[]> get(String path, Long knownSequence) throws UpstreamException {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(REQUEST_TIMEOUT).GET();
        if (knownSequence != null) {
            b.header("If-None-Match", "\"" + knownSequence + "\"");
        }
        return send(b.build(), path, knownSequence);
    }

    private Optional<byte[]> send(HttpRequest req, String path, Long knownSequence) throws UpstreamException {
        HttpResponse<InputStream> r;
        try {
            r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw new UpstreamException("central unreachable (" + base.getHost() + ", " + path + "): "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UpstreamException("interrupted", e);
        }
        byte[] body = limited(r.body());
        if (r.statusCode() == 304 && knownSequence != null) {
            return Optional.empty();
        }
        if (r.statusCode() != 200) {
            throw new UpstreamException(r.statusCode(), SiteApiMessages.errorCode(body), "central refused " + path
                    + " (" + r.statusCode() + " " + SiteApiMessages.errorMessage(body) + ")");
        }
        return Optional.of(body);
    }

    private static byte[] limited(InputStream in) throws UpstreamException {
        try (in) {
            byte[] b = in.readNBytes(SiteApiMessages.MAX_RESPONSE_BYTES + 1);
            if (b.length > SiteApiMessages.MAX_RESPONSE_BYTES) {
                throw new UpstreamException(0, null, "central's response is over " + SiteApiMessages.MAX_RESPONSE_BYTES
                        + " bytes: refused");
            }
            return b;
        } catch (IOException e) {
            throw new UpstreamException("reading central's response: " + e.getMessage(), e);
        }
    }
}
