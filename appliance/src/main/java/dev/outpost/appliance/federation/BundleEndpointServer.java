package dev.outpost.appliance.federation;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.appliance.ca.TrustBundle;
import dev.outpost.appliance.config.ApplianceConfig;
import dev.outpost.spiffe.PemIo;
import dev.outpost.tpm.keys.Pem;
import dev.outpost.appliance.timers.Periodic;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.SSLOptions;

/**
 * The site's SPIFFE Federation bundle endpoint (a standalone site is its own trust domain): {@code GET /} answers the
 * site's trust bundle in the SPIFFE bundle format with its {@code spiffe_sequence} and {@code spiffe_refresh_hint}.
 * Nothing else is served, no client is authenticated (the bundle is public), and nothing is read from a request but
 * its method and path.
 *
 * <p>In the https_spiffe profile the server's certificate is an X509-SVID of {@code spiffe://<td>/outpost/bundle-endpoint}
 * from the site CA, made here and replaced past half its life and whenever the CA rotates (a peer that holds the
 * previous bundle then still verifies it: the next CA is in the bundle before it signs).
 */
public final class BundleEndpointServer {
    private static final Logger LOG = LoggerFactory.getLogger(BundleEndpointServer.class);
    /** The endpoint SVID: short enough that a lost key ages out, long enough to ride out a stalled timer. */
    static final Duration SVID_TTL = Duration.ofHours(24);
    private static final Duration CHECK_EVERY = Duration.ofMinutes(10);

    private final Vertx vertx;
    private final ApplianceConfig.BundleEndpoint config;
    private final SiteCa ca;
    private final LongSupplier sequence;
    private final Clock clock;
    /** The site's JWT authorities as bundle keys (use jwt-svid); none when the site has no JWT authority. */
    private volatile java.util.function.Supplier<java.util.List<java.util.Map<String, Object>>> jwtKeys = java.util.List::of;
    private HttpServer server;
    private volatile Instant renewAt = Instant.MIN;

    private BundleEndpointServer(Vertx vertx, ApplianceConfig.BundleEndpoint config, SiteCa ca, LongSupplier sequence,
            Clock clock) {
        this.vertx = vertx;
        this.config = config;
        this.ca = ca;
        this.sequence = sequence;
        this.clock = clock;
    }

    /**
     * Starts listening (blocking work: key generation; call from a worker or at start-up).
     *
     * @param sequence the bundle's current spiffe_sequence (may block: it is read on a worker)
     */
    public static Future<BundleEndpointServer> start(Vertx vertx, ApplianceConfig.BundleEndpoint config, SiteCa ca,
            LongSupplier sequence, Clock clock) {
        return start(vertx, config, ca, sequence, java.util.List::of, clock);
    }

    /** As above, publishing the site's JWT authorities too ({@code use} jwt-svid, from {@code jwtKeys}). */
    public static Future<BundleEndpointServer> start(Vertx vertx, ApplianceConfig.BundleEndpoint config, SiteCa ca,
            LongSupplier sequence, java.util.function.Supplier<java.util.List<java.util.Map<String, Object>>> jwtKeys,
            Clock clock) {
        BundleEndpointServer s = new BundleEndpointServer(vertx, config, ca, sequence, clock);
        s.jwtKeys = jwtKeys;
        HttpServerOptions o = new HttpServerOptions()
                .setHost(config.host())
                .setPort(config.port())
                .setSsl(true)
                .setKeyCertOptions(s.keyCert())
                .setIdleTimeout(30)
                .setMaxInitialLineLength(1024)
                .setMaxHeaderSize(8192);
        s.server = vertx.createHttpServer(o).requestHandler(s::handle);
        return s.server.listen().map(h -> {
            LOG.info("SPIFFE bundle endpoint ({}) on {}:{}", config.profile(), config.host(), h.actualPort());
            if (ApplianceConfig.BundleEndpoint.HTTPS_SPIFFE.equals(config.profile())) {
                Periodic.every(vertx, CHECK_EVERY, "bundle endpoint SVID renewal", () -> {
                    s.renewIfDue();
                    return null;
                });
            }
            return s;
        });
    }

    public int port() {
        return server.actualPort();
    }

    /** A new endpoint SVID now (the CA rotated); blocking. */
    public void renew() {
        if (!ApplianceConfig.BundleEndpoint.HTTPS_SPIFFE.equals(config.profile())) {
            return;
        }
        server.updateSSLOptions(new SSLOptions().setKeyCertOptions(keyCert()))
                .onFailure(e -> LOG.error("bundle endpoint: the new SVID was not taken: {}", e.getMessage()));
    }

    void renewIfDue() {
        if (!clock.instant().isBefore(renewAt)) {
            renew();
        }
    }

    public Future<Void> close() {
        return server == null ? Future.succeededFuture() : server.close();
    }

    private PemKeyCertOptions keyCert() {
        if (ApplianceConfig.BundleEndpoint.HTTPS_WEB.equals(config.profile())) {
            return new PemKeyCertOptions().setCertPath(config.certFile().toString()).setKeyPath(config.keyFile().toString());
        }
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair kp = g.generateKeyPair();
            X509Certificate svid = ca.issueBundleEndpointSvid(kp.getPublic(), SVID_TTL);
            List<X509Certificate> chain = new ArrayList<>();
            chain.add(svid);
            chain.addAll(ca.intermediates());
            Instant nb = svid.getNotBefore().toInstant();
            renewAt = nb.plus(Duration.between(nb, svid.getNotAfter().toInstant()).dividedBy(2));
            return new PemKeyCertOptions()
                    .setCertValue(Buffer.buffer(PemIo.encode(chain), StandardCharsets.US_ASCII.name()))
                    .setKeyValue(Buffer.buffer(Pem.encode("PRIVATE KEY", kp.getPrivate().getEncoded()),
                            StandardCharsets.US_ASCII.name()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("bundle endpoint SVID: " + e.getMessage(), e);
        }
    }

    private void handle(HttpServerRequest req) {
        if (!"/".equals(req.path())) {
            req.response().setStatusCode(404).end();
            return;
        }
        if (req.method() != HttpMethod.GET && req.method() != HttpMethod.HEAD) {
            req.response().setStatusCode(405).putHeader("Allow", "GET, HEAD").end();
            return;
        }
        vertx.executeBlocking(() -> TrustBundle.of(ca).withJwtKeys(jwtKeys.get())
                .spiffeJwks(sequence.getAsLong(), config.refreshHint()), false)
                .onSuccess(json -> req.response()
                        .putHeader("Content-Type", "application/json")
                        .putHeader("Cache-Control", "no-store")
                        .end(json))
                .onFailure(e -> {
                    LOG.warn("bundle endpoint: cannot serve the bundle: {}", e.getMessage());
                    req.response().setStatusCode(503).end();
                });
    }
}
