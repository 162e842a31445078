package dev.outpost.central.app;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.central.api.RateLimiter;
import dev.outpost.central.api.SiteApi;
import dev.outpost.central.bundle.BundleEndpoint;
import dev.outpost.central.config.CentralConfig;
import dev.outpost.central.config.Durations;
import dev.outpost.central.federation.BundleFetcher;
import dev.outpost.central.federation.FederationPoller;
import dev.outpost.central.monitoring.CentralMetrics;
import dev.outpost.central.monitoring.MonitoringServer;
import dev.outpost.central.monitoring.Readiness;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;

/**
 * A running central: the site API (HTTPS, client certificate requested), the bundle endpoint, the federation
 * poller, the monitoring listener. {@link #start} blocks until the servers listen; {@link #close} stops them and the
 * database.
 */
public final class CentralApp implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CentralApp.class);
    private static final java.time.Duration READINESS_EVERY = java.time.Duration.ofSeconds(15);

    private final Vertx vertx;
    private final Services services;
    private final HttpServer siteServer;
    private final HttpServer bundleServer;
    private final FederationPoller poller;
    private final Housekeeping housekeeping;
    private final CentralMetrics metrics;
    private final HttpServer monitoringServer;

    private CentralApp(Vertx vertx, Services services, HttpServer siteServer, HttpServer bundleServer, FederationPoller poller,
            Housekeeping housekeeping, CentralMetrics metrics, HttpServer monitoringServer) {
        this.vertx = vertx;
        this.services = services;
        this.siteServer = siteServer;
        this.bundleServer = bundleServer;
        this.poller = poller;
        this.housekeeping = housekeeping;
        this.metrics = metrics;
        this.monitoringServer = monitoringServer;
    }

    public static CentralApp start(Services s) throws Exception {
        CentralConfig cfg = s.config;
        Vertx vertx = Vertx.vertx();
        CentralMetrics metrics = null;
        try {
            Router router = new SiteApi(vertx, s.joins, s.sites, s.auth, new RateLimiter(s.clock, cfg.join.ratePerMinute))
                    .withDirectives(new dev.outpost.central.directives.DirectiveFeed(s.db))
                    .events(s.events)
                    .jwtAuthorities(new dev.outpost.central.bundle.SiteJwtAuthorities(s.db, s.clock))
                    .router();
            Readiness readiness = new Readiness(vertx, s.db);
            // The routes the router serves by exact path: any other is counted under one name.
            metrics = new CentralMetrics(router.getRoutes().stream().filter(Route::isExactPath).map(Route::getPath)
                    .filter(java.util.Objects::nonNull).toList(), readiness);
            HttpServerOptions siteOpts = new HttpServerOptions()
                    .setSsl(true)
                    .setHost(cfg.server.host)
                    .setPort(cfg.server.port)
                    .setKeyCertOptions(ServerTls.siteApi(s.ca, cfg.server.names))
                    // Requested, not required: the join endpoints are used before a site has a credential.
                    .setClientAuth(ClientAuth.REQUEST)
                    .setTrustOptions(ServerTls.roots(s.ca))
                    .setMaxInitialLineLength(4096)
                    .setMaxHeaderSize(16 * 1024)
                    .setIdleTimeout(60)
                    .setIdleTimeoutUnit(TimeUnit.SECONDS);
            HttpServer site = vertx.createHttpServer(siteOpts).requestHandler(metrics.timed(router))
                    .listen().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            LOG.info("site API listening on {}:{}", cfg.server.host, site.actualPort());
            HttpServer bundle = null;
            if (cfg.bundleEndpoint.enabled) {
                PemKeyCertOptions tls = "https_web".equals(cfg.bundleEndpoint.profile)
                        ? new PemKeyCertOptions().setCertPath(cfg.bundleEndpoint.certFile).setKeyPath(cfg.bundleEndpoint.keyFile)
                        : ServerTls.bundleSvid(s.ca);
                HttpServerOptions bOpts = new HttpServerOptions().setSsl(true).setHost(cfg.bundleEndpoint.host)
                        .setPort(cfg.bundleEndpoint.port).setKeyCertOptions(tls)
                        .setIdleTimeout(30).setIdleTimeoutUnit(TimeUnit.SECONDS);
                BundleEndpoint endpoint = new BundleEndpoint(vertx, s.bundle);
                bundle = vertx.createHttpServer(bOpts).requestHandler(endpoint::handle)
                        .listen().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
                LOG.info("bundle endpoint ({}) listening on {}:{}", cfg.bundleEndpoint.profile, cfg.bundleEndpoint.host,
                        bundle.actualPort());
            }
            FederationPoller poller = new FederationPoller(vertx, s.db, s.clock,
                    new BundleFetcher(s.clock, cfg.federation.webCaFile == null ? null : Path.of(cfg.federation.webCaFile)),
                    Durations.parse(cfg.federation.minInterval), Durations.parse(cfg.federation.maxInterval));
            poller.start();
            Housekeeping housekeeping = new Housekeeping(vertx, s.db, s.clock, Durations.parse(cfg.events.retention));
            housekeeping.start();
            // The ready gauge follows the database between probes too (a check in flight is shared, never stacked).
            readiness.check();
            vertx.setPeriodic(READINESS_EVERY.toMillis(), t -> readiness.check());
            HttpServer monitoring = null;
            if (cfg.monitoring.enabled) {
                monitoring = MonitoringServer.start(vertx, cfg.monitoring.host, cfg.monitoring.port, metrics, readiness)
                        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
                LOG.info("monitoring (/health, /health/ready, /metrics) on http://{}:{}", cfg.monitoring.host,
                        monitoring.actualPort());
            }
            return new CentralApp(vertx, s, site, bundle, poller, housekeeping, metrics, monitoring);
        } catch (Exception e) {
            if (metrics != null) {
                metrics.close();
            }
            vertx.close();
            throw e;
        }
    }

    public int sitePort() {
        return siteServer.actualPort();
    }

    public int bundlePort() {
        return bundleServer == null ? -1 : bundleServer.actualPort();
    }

    /** The monitoring listener's port, or -1 when it is off. */
    public int monitoringPort() {
        return monitoringServer == null ? -1 : monitoringServer.actualPort();
    }

    public Services services() {
        return services;
    }

    public FederationPoller poller() {
        return poller;
    }

    public Housekeeping housekeeping() {
        return housekeeping;
    }

    @Override
    public void close() {
        poller.stop();
        housekeeping.stop();
        metrics.close();
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("vert.x did not close cleanly: {}", e.getMessage());
        }
        services.close();
    }
}
