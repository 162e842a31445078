package dev.outpost.appliance.app;

import java.time.Clock;

import dev.outpost.appliance.ca.CaFiles;
import dev.outpost.appliance.ca.NextCaSigner;
import dev.outpost.appliance.ca.SelfSigner;
import dev.outpost.appliance.config.ApplianceConfig;
import dev.outpost.appliance.upstream.CentralAddresses;
import dev.outpost.appliance.upstream.UpstreamLink;

/** What the CA mode decides at start: who signs the next CA, and how a nested site without a CA gets one. */
final class NestedStart {
    private NestedStart() {
    }

    /** Standalone: ourselves. Nested with a link: central. Nested without: nobody (the operator, by file). */
    static NextCaSigner signer(ApplianceConfig config, Clock clock, CentralAddresses central) {
        if (!config.ca().nested()) {
            return new SelfSigner(config.trustDomain(), config.site(), config.ca().ttl(), clock);
        }
        return config.upstream().online() ? UpstreamLink.create(config, clock, central).caSigner() : null;
    }

    /** The refusal of a nested site that has no CA and no link, naming the way out. */
    static String noCaMessage(ApplianceConfig config) {
        return "refusing to start: ca.mode is nested, there is no site CA in " + config.caDir()
                + " and no upstream.url to get one from. Make the CA key and its request here: "
                + "`outpost-appliance ca csr --data-dir " + config.dataDir() + " --out site.csr`, have site.csr signed by "
                + "the upstream CA (CA:true, pathlen:0, keyCertSign, URI SAN spiffe://" + config.trustDomain()
                + "), then `outpost-appliance ca install --data-dir " + config.dataDir()
                + " --cert site.pem --chain chain.pem` (chain.pem: the certificates above it, ending at the root), "
                + "and start again"
                + (java.nio.file.Files.exists(config.dataDir().resolve(dev.outpost.appliance.store.SiteDirectory.MARKER))
                        ? ". This site has run before: devices trust the upstream root, so a new site CA signed by it "
                                + "lets them resume without enrolling again" : "");
    }

    /**
     * First start of a nested site with a link: join central if this site has no credential yet, have the site CA
     * signed, install it. Blocks (with back-off) until it has a CA: there is nothing a site without one can serve.
     */
    static void obtainFromUpstream(ApplianceConfig config, CaFiles files, Clock clock, CentralAddresses central)
            throws Exception {
        // Nothing else runs yet; the monitoring port is up meanwhile so that /health/ready says why the site does not
        // serve (not ready, reason from the last attempt) instead of not answering at all.
        java.util.concurrent.atomic.AtomicReference<String> why =
                new java.util.concurrent.atomic.AtomicReference<>("no site CA yet: joining central / getting it signed");
        io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
        dev.outpost.appliance.metrics.MonitoringServer monitoring = new dev.outpost.appliance.metrics.MonitoringServer(
                new io.micrometer.prometheus.PrometheusMeterRegistry(io.micrometer.prometheus.PrometheusConfig.DEFAULT),
                new dev.outpost.appliance.metrics.Readiness(java.util.List.of(
                        dev.outpost.appliance.metrics.Readiness.Check.of("ca", () -> java.util.Optional.of(why.get())))));
        try {
            monitoring.start(vertx, config.metrics().host(), config.metrics().port())
                    .toCompletionStage().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
            UpstreamLink.create(config, clock, central).bootstrap(files, why::set);
        } finally {
            // Closed even when start-up was interrupted: the real monitoring server binds the same port next.
            boolean interrupted = Thread.interrupted();
            try {
                monitoring.close().toCompletionStage().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
            } finally {
                vertx.close().toCompletionStage().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
