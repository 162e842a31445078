package dev.outpost.central;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.spiffe.PemIo;

/**
 * A site's side of the upward link for tests: plain JDK HTTPS, trusting central's root, optionally presenting a
 * site credential (key + chain). Independent of central's code except for test fixtures.
 */
public final class SiteClient {
    public static final ObjectMapper JSON = new ObjectMapper();

    public record Response(int status, JsonNode body, Map<String, List<String>> headers) {
        public String errorCode() {
            return body == null ? null : body.path("error").path("code").asText(null);
        }

        public String errorMessage() {
            return body == null ? null : body.path("error").path("message").asText(null);
        }
    }

    private final Harness central;
    private final HttpClient http;

    private SiteClient(Harness central, HttpClient http) {
        this.central = central;
        this.http = http;
    }

    public static SiteClient anonymous(Harness central) {
        return new SiteClient(central, client(central, null, null));
    }

    /** Presents {@code key} with {@code chainPem} (leaf first) as its client certificate. */
    public static SiteClient withCredential(Harness central, KeyPair key, String chainPem) throws Exception {
        return new SiteClient(central, client(central, key, PemIo.certificates(chainPem, 8)));
    }

    private static HttpClient client(Harness central, KeyPair key, List<X509Certificate> chain) {
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            int i = 0;
            for (X509Certificate r : central.services().ca.roots()) {
                trust.setCertificateEntry("root" + i++, r);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            KeyManagerFactory kmf = null;
            if (key != null) {
                KeyStore ks = KeyStore.getInstance("PKCS12");
                ks.load(null, null);
                ks.setKeyEntry("site", key.getPrivate(), new char[0], chain.toArray(new X509Certificate[0]));
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(ks, new char[0]);
            }
            ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), new SecureRandom());
            return HttpClient.newBuilder().sslContext(ctx).connectTimeout(Duration.ofSeconds(10)).build();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public Response post(String path, Object body) throws Exception {
        return post(path, JSON.writeValueAsBytes(body), "application/json");
    }

    public Response post(String path, byte[] body, String contentType) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(central.siteUrl(path))).timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        return send(b.build());
    }

    /** A body of unknown length (chunked transfer encoding): the server learns its size only while reading it. */
    public Response postChunked(String path, byte[] body) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(central.siteUrl(path))).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(body))).build();
        return send(req);
    }

    public Response get(String path, String ifNoneMatch) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(central.siteUrl(path))).timeout(Duration.ofSeconds(30)).GET();
        if (ifNoneMatch != null) {
            b.header("If-None-Match", ifNoneMatch);
        }
        return send(b.build());
    }

    private Response send(HttpRequest req) throws Exception {
        HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
        JsonNode body = r.body() == null || r.body().isEmpty() ? null : JSON.readTree(r.body());
        return new Response(r.statusCode(), body, r.headers().map());
    }
}
