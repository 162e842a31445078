package dev.outpost.central.bundle;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;

/**
 * The SPIFFE Federation bundle endpoint: {@code GET /} answers the trust domain's bundle (JWKS with
 * {@code spiffe_sequence} and {@code spiffe_refresh_hint}). TLS is the server's (https_web: a configured web
 * certificate; https_spiffe: an SVID of spiffe://td/outpost/bundle-endpoint); no client authentication, as the
 * standard says. The bundle is read from the database on each request, on a worker.
 */
public final class BundleEndpoint {
    private static final Logger LOG = LoggerFactory.getLogger(BundleEndpoint.class);

    private final Vertx vertx;
    private final TrustDomainBundle bundle;

    public BundleEndpoint(Vertx vertx, TrustDomainBundle bundle) {
        this.vertx = vertx;
        this.bundle = bundle;
    }

    public void handle(HttpServerRequest req) {
        if (req.method() != HttpMethod.GET) {
            req.response().setStatusCode(405).putHeader(HttpHeaders.ALLOW, "GET").end();
            return;
        }
        if (!"/".equals(req.path())) {
            req.response().setStatusCode(404).end();
            return;
        }
        vertx.executeBlocking(() -> bundle.json(bundle.snapshot()), false).onComplete(ar -> {
            if (ar.failed()) {
                LOG.error("bundle endpoint: cannot read the bundle", ar.cause());
                req.response().setStatusCode(503).end();
                return;
            }
            req.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                    .putHeader(HttpHeaders.CACHE_CONTROL, "no-store").end(ar.result());
        });
    }
}
