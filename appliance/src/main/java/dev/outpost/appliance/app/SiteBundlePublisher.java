package dev.outpost.appliance.app;

import java.util.Map;
import java.util.TreeMap;

import dev.outpost.appliance.ca.JwtBundles;
import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.appliance.ca.TrustBundle;
import dev.outpost.appliance.store.BundleStore;
import dev.outpost.mqtt.endpoint.DeviceChannel;
import dev.outpost.mqtt.endpoint.MqttEndpointServer;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.Messages;
import dev.outpost.mqtt.protocol.SiteBundle;
import dev.outpost.mqtt.protocol.Topics;
import dev.outpost.spiffe.PemIo;

/**
 * Sends the site bundle (the CA's, central's federated roots, the JWT keys) to every device as a retained message,
 * at start and whenever it moved, and makes the endpoint trust the client SVIDs of every CA in it.
 */
final class SiteBundlePublisher implements Runnable {
    private final String trustDomain;
    private final SiteCa ca;
    private final BundleStore bundles;
    private final JwtBundles jwtBundles;
    private final DeviceChannel endpoint;
    private final Topics topics;

    SiteBundlePublisher(String trustDomain, SiteCa ca, BundleStore bundles, JwtBundles jwtBundles,
            DeviceChannel endpoint, Topics topics) {
        this.trustDomain = trustDomain;
        this.ca = ca;
        this.bundles = bundles;
        this.jwtBundles = jwtBundles;
        this.endpoint = endpoint;
        this.topics = topics;
    }

    @Override
    public void run() {
        String pem = TrustBundle.of(ca).pem();
        // New connections verify client SVIDs of every CA in the bundle (the next CA's before it signs).
        if (endpoint instanceof MqttEndpointServer server) {
            server.updateTrust(pem);
        }
        Map<String, String> federated = new TreeMap<>();
        ca.federated().forEach((td, roots) -> federated.put(td, PemIo.encode(roots)));
        endpoint.publishSite(topics.siteBundle(), new Codec(SiteBundle.LIMITS).encode(new SiteBundle(
                Messages.VERSION, trustDomain, bundles.sequence(), pem, federated, jwtBundles.bySiteBundle())), true);
    }
}
