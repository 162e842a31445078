package dev.outpost.appliance.upstream;

import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.appliance.ca.SiteCa;

/**
 * Follows central's {@code GET /v1/site/bundle} (If-None-Match on the last sequence) and hands the federated trust
 * domains' roots to devices with ours. Our own trust domain's bundle is not merged: devices already hold its roots
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

    public BundleFollower(UpstreamLink link, SiteCa ca, String trustDomain, Runnable bundleChanged) {
        this.link = link;
        this.ca = ca;
        this.trustDomain = trustDomain;
        this.bundleChanged = bundleChanged;
    }

    /** One look; a failure is logged (once until it works again) and changes nothing: offline is normal here. */
    public synchronized void poll() {
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
        List<X509Certificate> roots = new ArrayList<>();
        for (Map.Entry<String, List<X509Certificate>> e : b.federated().entrySet()) {
            if (e.getKey().equals(trustDomain)) {
                continue;
            }
            roots.addAll(e.getValue());
        }
        List<X509Certificate> before = ca.trustAnchors();
        ca.publishFederated(roots);
        sequence = b.sequence();
        List<X509Certificate> after = ca.trustAnchors();
        boolean changed = before.size() != after.size() || !before.containsAll(after);
        if (changed) {
            LOG.info("central's bundle {}: {} federated trust domain(s), {} root(s) handed to devices", b.sequence(),
                    b.federated().size(), roots.size());
            bundleChanged.run();
        }
        return changed;
    }
}
