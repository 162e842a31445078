package dev.outpost.appliance.app;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.appliance.ca.CaRotation;
import dev.outpost.appliance.ca.JwtAuthority;
import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.appliance.config.ApplianceConfig;
import dev.outpost.appliance.federation.BundleEndpointServer;
import dev.outpost.appliance.store.OutboxStore;
import dev.outpost.appliance.workload.EntryRules;
import dev.outpost.mqtt.endpoint.DeviceChannel;
import dev.outpost.mqtt.endpoint.MqttEndpointServer;
import dev.outpost.appliance.timers.Periodic;
import io.vertx.core.Vertx;

/**
 * What follows the site CA's rotation (docs/ca-rotation.md): the JWT authority turns over with it, the bundle moves,
 * central hears of it through the outbox ("ca" events, never dropped), the bundle endpoint and the device endpoint
 * take certificates of the new CA. The rule itself is checked every minute on a worker.
 */
final class RotationEvents {
    private static final Logger LOG = LoggerFactory.getLogger(RotationEvents.class);
    // Rotation decides by the injected clock; a minute of wall time between looks is nothing against a CA lifetime.
    private static final Duration ROTATION_EVERY = Duration.ofMinutes(1);

    private RotationEvents() {
    }

    /**
     * @param bundleMoved    bumps the bundle sequence and sends the site bundle to every connection
     * @param bundleEndpoint the SPIFFE bundle endpoint once started, or null when it is not served
     */
    static void wire(Vertx vertx, ApplianceConfig config, Clock clock, CaRotation rotation, SiteCa ca,
            JwtAuthority jwtAuthority, Runnable bundleMoved, OutboxStore outbox, DeviceChannel endpoint,
            Supplier<BundleEndpointServer> bundleEndpoint) {
        rotation.onActivated(() -> {
            // The JWT authority turns over with the CA: the next key (published with the next CA) signs now, the
            // former stays published until the last token it signed has expired.
            try {
                jwtAuthority.activateNext(EntryRules.MAX_JWT_TTL.plus(SiteCa.BACKDATE));
            } catch (IOException | GeneralSecurityException | RuntimeException e) {
                LOG.error("the JWT authority did not rotate with the CA: {}", e.getMessage());
            }
            bundleMoved.run();
            // Central learns of the switch; the CA files switched already.
            outbox.appendAlone("ca", clock.instant(), null, event("activated", ca));
            BundleEndpointServer be = bundleEndpoint.get();
            if (be != null) {
                be.renew();
            }
            // The endpoint's certificate came from the old CA and ends with it: devices get one from the new CA on
            // their next handshake (they already trust its root: it was in the bundle before the switch).
            if (endpoint instanceof MqttEndpointServer server && config.mqtt().tls().selfIssued()) {
                try {
                    ServerTls.Material m = ServerTls.issue(ca, List.of(), config.ca().ttl());
                    server.updateServerCertificate(m.certChainPem(), m.keyPem());
                } catch (GeneralSecurityException e) {
                    LOG.error("cannot reissue the endpoint's server certificate from the new CA: {}", e.getMessage());
                }
            }
        });
        // A next CA ready, an active one expired; the switch itself is reported on activation above.
        rotation.onTransition((state, why) -> {
            if (state == CaRotation.State.PREPARED) {
                try {
                    if (jwtAuthority.prepareNext()) {
                        bundleMoved.run();
                    }
                } catch (IOException | GeneralSecurityException e) {
                    LOG.error("cannot make the next JWT authority key: {}", e.getMessage());
                }
            }
            if (state == CaRotation.State.PREPARED || state == CaRotation.State.EXPIRED) {
                Map<String, Object> data = event(state == CaRotation.State.PREPARED ? "prepared" : "expired", ca);
                data.put("detail", why);
                outbox.appendAlone("ca", clock.instant(), null, data);
            }
        });
        Periodic.every(vertx, ROTATION_EVERY, "CA rotation", () -> {
            CaRotation.State state = rotation.tick();
            // Retired JWT keys leave the bundle once their last token expired; the sequence moves with them.
            if (jwtAuthority.prune()) {
                bundleMoved.run();
            }
            return state;
        });
    }

    private static Map<String, Object> event(String what, SiteCa ca) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("event", what);
        data.put("notAfter", ca.notAfter().toString());
        data.put("serial", ca.certificate().getSerialNumber().toString(16));
        return data;
    }
}
