package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.agent.state.AgentState;
import dev.outpost.agent.state.NodeIdentity;
import dev.outpost.appliance.ca.CaRotation;
import dev.outpost.sim.BootProfile;
import dev.outpost.sim.GoodPolicies;
import dev.outpost.sim.SimulatedKernel;
import dev.outpost.testkit.MutableClock;
import dev.outpost.testkit.ProcessRunner;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.testkit.Tools;

/**
 * Standalone CA rotation with a real device across the switch. The appliance's clock starts five hours in the past
 * and is moved to the prepare (1/2 left) and activate (1/6 left) points of a six-hour CA, so that every certificate it
 * issues is valid by the wall clock the devices' TLS checks (the activation point is "now"). The device learns the
 * next root before it signs anything, gets an SVID of the new CA at its next renewal and reconnects to an endpoint
 * whose certificate now comes from the new CA; an SVID of the old CA is still accepted after the switch.
 */
@ExtendWith(SwtpmExtension.class)
class RotationSiteTest {

    @Test
    void devicesKeepWorkingAcrossTheSwitch(Swtpm swtpm, @TempDir Path dir) throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(swtpm::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));
        MutableClock moved = new MutableClock();
        Clock clock = Clock.offset(moved, Duration.ofHours(-5));
        // EK trust by hash: the EK certificate swtpm just made is not valid yet by a clock five hours back.
        try (SiteHarness site = new SiteHarness(dir, "hash", Duration.ofMinutes(330))
                // Freshness as long as the SVIDs: the probationary SVID (never longer than freshness) must still be
                // valid by the wall clock though issued five hours back.
                .attestEvery(Duration.ofSeconds(2), Duration.ofMinutes(330))
                .caConfig("  ttl: PT6H").withClock(clock)) {
            String ek = dev.outpost.testkit.CliRun.run(dev.outpost.agent.cli.AgentCli::commandLine, "tpm", "ek", "--tpm",
                    swtpm.uri(), "--json").out();
            String deviceId = new com.fasterxml.jackson.databind.ObjectMapper().readTree(ek).path("deviceId").asText();
            Files.writeString(dir.resolve("allow").resolve(deviceId), "");
            site.startAppliance();
            CaRotation rotation = site.appliance().caRotation();
            X509Certificate first = caCert(site);
            String id = site.trustWithPolicy(swtpm, dir.resolve("runtime.json"));
            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "rsa", dir.resolve("securityfs"));
            SiteHarness.Running agent = site.startAgent(config);
            try {
                await("node SVID", Duration.ofSeconds(60), () -> nodeSvid(config));
            } catch (AssertionError e) {
                throw explained(e, site, id, agent, config);
            }
            assertThat(rotation.tick()).isEqualTo(CaRotation.State.NONE);
            java.util.Set<String> jwtBefore = jwtKids(site);
            assertThat(jwtBefore).hasSize(1);

            moved.advance(Duration.between(clock.instant(), rotation.prepareAt()).plusSeconds(1));
            assertThat(rotation.tick()).isEqualTo(CaRotation.State.PREPARED);
            assertThat(caCert(site)).as("prepared, not active").isEqualTo(first);
            // The next JWT authority is published with the next CA, before it signs anything.
            java.util.Set<String> jwtPrepared = jwtKids(site);
            assertThat(jwtPrepared).hasSize(2).containsAll(jwtBefore);
            // The next root reaches the device (with its next renewal) before the next CA signs anything.
            await("the device holds both roots", Duration.ofSeconds(60), () -> bundleSize(config) == 2 && nodeSvid(config));
            NodeIdentity beforeSwitch = SiteHarness.identity(config);
            assertThat(signedBy(beforeSwitch.leaf(), first)).isTrue();
            AgentConfig oldConfig = site.agentConfig(swtpm, "old", "rsa2048", "rsa", dir.resolve("securityfs"));
            // The running agent may be renewing while we copy (its key and certificate are replaced one after the
            // other): copy again until the copy is one consistent identity of the first CA.
            await("a consistent copy of the agent's identity", Duration.ofSeconds(30), () -> {
                try {
                    copyState(config.stateDir(), oldConfig.stateDir());
                    NodeIdentity copied = SiteHarness.identity(oldConfig);
                    return copied != null && signedBy(copied.leaf(), first);
                } catch (java.io.IOException e) {
                    return false;
                }
            });

            // The agent is stopped across the move and the switch: while past half life it renews at every
            // attestation, and a renewal served between the clock's move and the tick got an SVID of the old CA
            // (legitimately: the old CA signs until the switch) that is fresh, so the next renewal came only half
            // an hour later and the wait below timed out.
            SiteHarness.stopAgent(agent);
            moved.advance(Duration.between(clock.instant(), rotation.activateAt()).plusSeconds(1));
            assertThat(rotation.tick()).isEqualTo(CaRotation.State.NONE);
            X509Certificate second = caCert(site);
            assertThat(second).isNotEqualTo(first);
            // With the CA, the JWT authority turned over: the next key signs, the former stays published.
            assertThat(jwtKids(site)).isEqualTo(jwtPrepared);
            Path caDir = site.caPem().getParent();
            assertThat(Files.exists(caDir.resolve(dev.outpost.appliance.ca.JwtAuthority.NEXT_KEY_FILE))).isFalse();
            assertThat(dev.outpost.appliance.ca.JwtAuthority.loadOrCreate(caDir, dev.outpost.appliance.ca.CaKeys.file(),
                    clock).kid()).isNotIn(jwtBefore).isIn(jwtPrepared);
            // Back with the SVID of the old CA it held across the switch: let in, it renews into the new CA.
            agent = site.startAgent(config);

            try {
                await("a renewed SVID of the new CA", Duration.ofSeconds(60), () -> {
                    try {
                        NodeIdentity i = SiteHarness.identity(config);
                        return nodeSvid(config) && signedBy(i.leaf(), second);
                    } catch (java.io.IOException e) {
                        return false;
                    }
                });
            } catch (AssertionError e) {
                throw explained(e, site, id, agent, config);
            }
            assertThat(SiteAttestationTest.state(site, id)).isEqualTo("trusted");
            assertThat(signedBy(serverCertificate(site.mqttPort()), second))
                    .as("the endpoint presents a certificate of the new CA").isTrue();
            ProcessRunner.Result v = ProcessRunner.run(List.of(Tools.require("openssl").toString(), "verify", "-CAfile",
                    config.stateDir().resolve("bundle.pem").toString(), config.stateDir().resolve("svid.pem").toString()),
                    dir, java.util.Map.of(), 30);
            assertThat(v.stdout()).as(v.toString()).contains(": OK");
            SiteHarness.stopAgent(agent);

            // The SVID of the old CA, kept from before the switch, is still let in (its root stays in the bundle until
            // the old CA expires); the endpoint answers with a certificate of the new CA, which the old bundle knew.
            try (var c = SiteHarness.connectWithSvid(site, oldConfig)) {
                assertThat(signedBy(SiteHarness.identity(oldConfig).leaf(), first)).isTrue();
            }
        }
    }

    /** A timed-out wait with what the device, the agent and the audit log said at that point (for a CI log). */
    private static AssertionError explained(AssertionError e, SiteHarness site, String id, SiteHarness.Running agent,
            AgentConfig config) throws Exception {
        NodeIdentity i = SiteHarness.identity(config);
        return new AssertionError(e.getMessage() + "; device " + SiteAttestationTest.state(site, id) + ", agent "
                + agent.daemon().verdict() + " (" + agent.daemon().status() + "), identity " + (i == null ? null
                : i.spiffeId() + " from " + i.leaf().getIssuerX500Principal() + " " + i.leaf().getNotBefore() + ".."
                + i.notAfter()) + ", audit "
                + new dev.outpost.appliance.admin.AdminClient(site.adminSocket()).get("/v1/audit?limit=20").body(), e);
    }

    /** The endpoint's TLS certificate as a client sees it (no trust decision: only its issuer is looked at). */
    private static X509Certificate serverCertificate(int port) throws Exception {
        javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
        X509Certificate[][] seen = new X509Certificate[1][];
        ctx.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
                seen[0] = chain;
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        try (javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port)) {
            s.startHandshake();
        }
        return seen[0][0];
    }

    private static X509Certificate caCert(SiteHarness site) throws Exception {
        return AgentState.certificates(Files.readString(site.caPem())).get(0);
    }

    private static boolean signedBy(X509Certificate leaf, X509Certificate ca) {
        try {
            leaf.verify(ca.getPublicKey());
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    private static int bundleSize(AgentConfig c) {
        try {
            NodeIdentity i = SiteHarness.identity(c);
            return i == null ? 0 : i.bundle().size();
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    private static boolean nodeSvid(AgentConfig config) {
        try {
            NodeIdentity i = SiteHarness.identity(config);
            return i != null && i.spiffeId().contains("/agent/tpm/") && i.validAt(Instant.now());
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static void copyState(Path from, Path to) throws java.io.IOException {
        Files.createDirectories(to);
        try (var stale = Files.list(to)) {
            for (Path f : stale.toList()) {
                if (Files.isRegularFile(f)) {
                    Files.delete(f);
                }
            }
        }
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) {
                if (Files.isRegularFile(f)) {
                    Files.copy(f, to.resolve(f.getFileName()), java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    private static java.util.Set<String> jwtKids(SiteHarness site) throws Exception {
        return dev.outpost.spiffe.SpiffeJwks.parse(new dev.outpost.appliance.admin.AdminClient(site.adminSocket())
                .get("/v1/bundle?format=spiffe").body()).jwtAuthorities().keySet();
    }
}
