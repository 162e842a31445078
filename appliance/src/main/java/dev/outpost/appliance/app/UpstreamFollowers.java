package dev.outpost.appliance.app;

import java.time.Clock;
import java.time.Duration;

import dev.outpost.appliance.ca.JwtAuthority;
import dev.outpost.appliance.ca.JwtBundles;
import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.appliance.config.ApplianceConfig;
import dev.outpost.appliance.directives.DirectiveApplier;
import dev.outpost.appliance.directives.DirectiveFollower;
import dev.outpost.appliance.upstream.BundleFollower;
import dev.outpost.appliance.upstream.CentralAddresses;
import dev.outpost.appliance.upstream.JwtAuthorityUplink;
import dev.outpost.appliance.upstream.UpstreamLink;
import dev.outpost.appliance.timers.Periodic;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;

/**
 * What a nested site with a link fetches from central on its own schedule (docs/upward-link.md): the trust bundle
 * (federated roots, JWT authorities; the site's own JWT keys go up on the same turn) and the directives, each on a
 * worker. Their calls take turns: each may renew the site credential (files in upstream/) when it is past half its
 * life, and two renewals at once would mix keys and certificates. The outbox is the third user of the link and
 * keeps its own schedule (OutboxService).
 */
final class UpstreamFollowers {
    // Central's spiffe_refresh_hint default; the request is a 304 when nothing moved.
    private static final Duration BUNDLE_FOLLOW_EVERY = Duration.ofMinutes(5);
    // A fleet-wide ban should reach an online site within a minute; an empty answer is one small GET.
    private static final Duration DIRECTIVES_EVERY = Duration.ofMinutes(1);

    final BundleFollower bundle;
    final DirectiveFollower directives;

    private UpstreamFollowers(BundleFollower bundle, DirectiveFollower directives) {
        this.bundle = bundle;
        this.directives = directives;
    }

    /**
     * Builds both followers, polls each once now and then on its period.
     *
     * @param bundleMoved bumps the bundle sequence and sends the site bundle to every connection
     * @param applier     applies a directive (a ban revokes by the operator's path)
     */
    static UpstreamFollowers start(Vertx vertx, ApplianceConfig config, Clock clock, CentralAddresses central,
            SiteCa ca, JwtAuthority jwtAuthority, JwtBundles jwtBundles, Runnable bundleMoved, DirectiveApplier applier,
            MeterRegistry registry) {
        Object upstreamCalls = new Object();
        BundleFollower bundle = new BundleFollower(UpstreamLink.create(config, clock, central), ca, config.trustDomain(),
                bundleMoved).withJwt(jwtBundles);
        UpstreamLink jwtLink = UpstreamLink.create(config, clock);
        bundle.withUplink(new JwtAuthorityUplink(jwtAuthority::jwks, jwks -> jwtLink.postJwtAuthorities(jwks).status()));
        // A stalled link holds one run of each follower, not one worker per tick.
        Periodic.nowAndEvery(vertx, BUNDLE_FOLLOW_EVERY, "upstream bundle poll", () -> {
            synchronized (upstreamCalls) {
                bundle.poll();
            }
            return null;
        });

        UpstreamLink directiveLink = UpstreamLink.create(config, clock, central);
        DirectiveFollower directives = new DirectiveFollower(after -> {
            synchronized (upstreamCalls) {
                return directiveLink.directives(after);
            }
        }, applier);
        Periodic.nowAndEvery(vertx, DIRECTIVES_EVERY, "central directives poll", directives::poll);
        // Central's latest minus the applied one is the backlog; failing says the link or a directive is stuck.
        Gauge.builder("outpost_directives_applied_version", directives, f -> f.status().applied()).register(registry);
        Gauge.builder("outpost_directives_latest_version", directives, f -> f.status().latest()).register(registry);
        Gauge.builder("outpost_directives_failing", directives, f -> f.status().lastError() == null ? 0 : 1)
                .register(registry);
        return new UpstreamFollowers(bundle, directives);
    }
}
