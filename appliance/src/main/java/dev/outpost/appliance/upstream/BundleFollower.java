package dev.outpost.appliance.upstream;

import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.appliance.ca.SiteCa;

/**
 * Follows central's {@code GET /v1/site/bundle} (If-None-Match on the last sequence) and hands the federated trust
 * domains' roots to devices in the site bundle message ({@code federated}, per trust domain). Our own trust domain's bundle is not merged: devices already hold its roots
 * (upstream-roots.pem) and every SVID carries its site CA. Blocking: run {@link #poll()} on a worker.
 */
public final class BundleFollower {
    private static final Logger LOG = LoggerFactory.getLogger(BundleFollower.class);

    private final UpstreamLink link;
    private final SiteCa ca;
    private final String trustDomain;
    private final Runnable bundleChanged;
    private Long sequence;
    private boolean warned;
    private volatile dev.outpost.appliance.ca.JwtBundles jwt;

    private volatile JwtAuthorityUplink uplink;

    /** Also sends the site's JWT authorities up on every poll, until central holds the current ones. */
    public BundleFollower withUplink(JwtAuthorityUplink uplink) {
        this.uplink = uplink;
        return this;
    }

    /** Also hands central's JWT authorities (ours and federated trust domains') to devices through {@code jwt}. */
    public BundleFollower withJwt(dev.outpost.appliance.ca.JwtBundles jwt) {
        this.jwt = jwt;
        return this;
    }

    public BundleFollower(UpstreamLink link, SiteCa ca, String trustDomain, Runnable bundleChanged) {
        this.link = link;
        this.ca = ca;
        this.trustDomain = trustDomain;
        this.bundleChanged = bundleChanged;
    }

    /** One look; a failure is logged (once until it works again) and changes nothing: offline is normal here. */
    public synchronized void poll() {
        JwtAuthorityUplink up = uplink;
        if (up != null) {
            up.push();
        }
        try {
            link.bundles(sequence).ifPresent(this::apply);
            warned = false;
        } catch (Exception e) {
            if (!warned) {
                LOG.warn("central's bundle not fetched ({}); devices keep the federated roots they have", e.getMessage());
                warned = true;
            }
        }
    }

    /** Applies a fetched bundle document; a sequence that does not move forward is ignored. */
    synchronized boolean apply(SiteApiMessages.Bundles b) {
        if (sequence != null && b.sequence() <= sequence) {
            return false;
        }
        Map<String, List<X509Certificate>> roots = new java.util.TreeMap<>();
        for (Map.Entry<String, List<X509Certificate>> e : b.federated().entrySet()) {
            if (!e.getKey().equals(trustDomain) && !e.getValue().isEmpty()) {
                roots.put(e.getKey(), e.getValue());
            }
        }
        Map<String, List<X509Certificate>> before = ca.federated();
        sequence = b.sequence();
        boolean changed = !roots.equals(before);
        if (changed) {
            ca.publishFederated(roots);
            LOG.info("central's bundle {}: {} federated trust domain(s) handed to devices", b.sequence(), roots.size());
        }
        dev.outpost.appliance.ca.JwtBundles j = jwt;
        if (j != null && j.fromCentral(b.jwtAuthorities())) {
            LOG.info("central's bundle {}: JWT authorities of {} handed to devices", b.sequence(),
                    b.jwtAuthorities().keySet().stream().map(td -> td.isEmpty() ? trustDomain : td).toList());
            changed = true;
        }
        if (changed) {
            bundleChanged.run();
        }
        return changed;
    }
}
