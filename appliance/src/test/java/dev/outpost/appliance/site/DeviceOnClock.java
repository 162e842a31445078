package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;

import org.eclipse.paho.mqttv5.common.MqttException;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.agent.mqtt.ApplianceClient;
import dev.outpost.agent.state.AgentState;
import dev.outpost.agent.state.NodeIdentity;
import dev.outpost.agent.tls.TlsContexts;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.Topics;

/** What a device holds, read by a test whose site runs on a moved clock (OutageEnduranceSiteTest). */
final class DeviceOnClock {
    private DeviceOnClock() {
    }

    /** A device's own session with its SVID, TLS judged by the site's clock (the endpoint's certificate is recent). */
    static ApplianceClient connectWithSvid(SiteHarness site, AgentConfig config, java.time.Clock clock)
            throws Exception {
        NodeIdentity id = SiteHarness.identity(config);
        String deviceId = id.spiffeId().substring(id.spiffeId().lastIndexOf('/') + 1);
        ApplianceClient c = new ApplianceClient("127.0.0.1", site.mqttPort(), deviceId, new Topics(), new Codec(),
                Duration.ofSeconds(20));
        try {
            c.connect(TlsContexts.context(TlsContexts.trusting(id.bundle(), clock), id));
        } catch (MqttException e) {
            c.close();
            throw e;
        }
        return c;
    }

    static String describe(AgentConfig c) {
        StringBuilder b = new StringBuilder();
        try (var files = Files.list(c.stateDir())) {
            for (Path f : files.toList()) {
                b.append(f.getFileName()).append(' ').append(Files.isRegularFile(f) ? Files.size(f) : -1).append("; ");
            }
            List<X509Certificate> svid = AgentState.certificates(Files.readString(c.stateDir().resolve("svid.pem")));
            b.append("svid ").append(svid.get(0).getSerialNumber()).append(" until ").append(svid.get(0).getNotAfter());
            new AgentState(c.stateDir(), dev.outpost.agent.enroll.DeviceTpm.of(c)::sign).identity();
        } catch (Exception e) {
            b.append(" ").append(e);
        }
        return b.toString();
    }

    /** The node SVID on disk when it is valid at the clock's time, else null. */
    static NodeIdentity validSvid(AgentConfig config, java.time.Clock clock) {
        try {
            NodeIdentity i = SiteHarness.identity(config);
            return i != null && i.spiffeId().contains("/agent/tpm/") && i.validAt(clock.instant()) ? i : null;
        } catch (java.io.IOException e) {
            return null;
        }
    }

    static BigInteger serial(AgentConfig c) throws Exception {
        return settled(c).leaf().getSerialNumber();
    }

    /** The identity on disk once it reads whole (a renewal in progress writes the key before the SVID). */
    static NodeIdentity settled(AgentConfig c) throws Exception {
        java.util.concurrent.atomic.AtomicReference<NodeIdentity> got = new java.util.concurrent.atomic.AtomicReference<>();
        await("an identity on disk in " + c.stateDir(), Duration.ofSeconds(10), () -> {
            try {
                got.set(SiteHarness.identity(c));
            } catch (java.io.IOException e) {
                got.set(null);
            }
            return got.get() != null;
        });
        return got.get();
    }

    static X509Certificate caCert(SiteHarness site) throws Exception {
        return AgentState.certificates(Files.readString(site.caPem())).get(0);
    }

    static boolean signedBy(X509Certificate leaf, X509Certificate ca) {
        try {
            leaf.verify(ca.getPublicKey());
            return true;
        } catch (Exception e) {
            return false;
        }
    }

}
