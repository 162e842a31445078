package dev.outpost.appliance.app;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;

import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.appliance.ca.TrustBundle;
import dev.outpost.appliance.config.ApplianceConfig;
import dev.outpost.mqtt.endpoint.BrokerClient;
import dev.outpost.mqtt.endpoint.EndpointOptions;
import dev.outpost.mqtt.endpoint.KnownDevices;
import dev.outpost.mqtt.endpoint.RequestHandler;
import dev.outpost.tpm.keys.Pem;

/**
 * External broker mode: the appliance's client identity to the site broker, issued by the site CA at every
 * start with the fixed name the shipped Mosquitto ACL grants ({@code outpost-appliance}).
 */
final class BrokerConnection {
    static final String CLIENT_CN = "outpost-appliance";

    private BrokerConnection() {
    }

    static BrokerClient client(ApplianceConfig config, SiteCa ca, RequestHandler handler, EndpointOptions endpoint,
            KnownDevices known)
            throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair kp = g.generateKeyPair();
        StringBuilder chain = new StringBuilder(Pem.certificate(ca.issueClientCertificate(kp.getPublic(), CLIENT_CN,
                config.ca().ttl())));
        for (var c : ca.chain()) {
            chain.append(Pem.certificate(c));
        }
        String trust;
        try {
            trust = config.mqtt().broker().caFile() == null ? TrustBundle.of(ca).pem()
                    : Files.readString(config.mqtt().broker().caFile());
        } catch (IOException e) {
            throw new UncheckedIOException("mqtt.broker.caFile: " + e.getMessage(), e);
        }
        return new BrokerClient(new BrokerClient.Options(config.mqtt().broker().uri(), chain.toString(),
                Pem.encode("PRIVATE KEY", kp.getPrivate().getEncoded()), trust, endpoint.topics(), endpoint.limits(),
                endpoint.unauthenticatedPerDevice(), endpoint.unauthenticatedGlobal(), endpoint.authenticatedPerDevice()),
                handler, known);
    }
}
