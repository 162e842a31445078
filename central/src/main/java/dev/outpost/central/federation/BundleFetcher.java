package dev.outpost.central.federation;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

import dev.outpost.central.store.FederationStore;
import dev.outpost.spiffe.PemIo;
import dev.outpost.spiffe.SpiffeId;
import dev.outpost.spiffe.SpiffeJwks;

/**
 * Fetches a foreign trust domain's bundle per SPIFFE Federation: one GET with timeouts, at most
 * {@link SpiffeJwks#MAX_BYTES} read, parsed by the shared bounded parser; any failure is an exception with the
 * reason, and the caller keeps the last good bundle. Blocking: workers only.
 */
public final class BundleFetcher {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    public record Fetched(String json, SpiffeJwks.Parsed parsed) {
    }

    private final Clock clock;
    private final Path webCaFile;

    public BundleFetcher(Clock clock, Path webCaFile) {
        this.clock = clock;
        this.webCaFile = webCaFile;
    }

    public Fetched fetch(FederationStore.Relation r) throws IOException, GeneralSecurityException {
        URI uri = URI.create(r.endpointUrl());
        if (!"https".equals(uri.getScheme())) {
            throw new GeneralSecurityException("bundle endpoint URL must be https: " + r.endpointUrl());
        }
        HttpClient client = HttpClient.newBuilder()
                .sslContext(sslContext(r))
                .connectTimeout(TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
        HttpRequest req = HttpRequest.newBuilder(uri).timeout(TIMEOUT).GET().header("Accept", "application/json").build();
        HttpResponse<InputStream> resp;
        try {
            resp = client.send(req, HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
        byte[] body;
        try (InputStream in = resp.body()) {
            body = in.readNBytes(SpiffeJwks.MAX_BYTES + 1);
        }
        if (resp.statusCode() != 200) {
            throw new IOException("bundle endpoint answered HTTP " + resp.statusCode());
        }
        if (body.length > SpiffeJwks.MAX_BYTES) {
            throw new IOException("bundle over " + SpiffeJwks.MAX_BYTES + " bytes");
        }
        String json = new String(body, StandardCharsets.UTF_8);
        SpiffeJwks.Parsed parsed = SpiffeJwks.parse(json);
        if (parsed.x509Authorities().isEmpty()) {
            throw new GeneralSecurityException("bundle holds no x509-svid authority");
        }
        return new Fetched(json, parsed);
    }

    private SSLContext sslContext(FederationStore.Relation r) throws IOException, GeneralSecurityException {
        SSLContext ctx = SSLContext.getInstance("TLS");
        if ("https_spiffe".equals(r.profile())) {
            if (r.bundle() == null) {
                throw new GeneralSecurityException("https_spiffe needs a bootstrap bundle of " + r.trustDomain());
            }
            List<X509Certificate> authorities = SpiffeJwks.parse(r.bundle()).x509Authorities();
            ctx.init(null, new TrustManager[] {new SpiffeServerTrust(SpiffeId.parse(r.endpointSpiffeId()), authorities, clock)},
                    new SecureRandom());
            return ctx;
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        if (webCaFile == null) {
            tmf.init((KeyStore) null);
        } else {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            int i = 0;
            for (X509Certificate c : PemIo.certificates(Files.readString(webCaFile, StandardCharsets.US_ASCII), 64)) {
                ks.setCertificateEntry("ca" + i++, c);
            }
            tmf.init(ks);
        }
        ctx.init(null, tmf.getTrustManagers(), new SecureRandom());
        return ctx;
    }
}
