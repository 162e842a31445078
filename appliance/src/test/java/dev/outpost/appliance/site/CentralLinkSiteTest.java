package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.agent.config.AgentConfig;
import io.spiffe.bundle.x509bundle.X509Bundle;
import io.spiffe.spiffeid.TrustDomain;
import io.spiffe.svid.x509svid.X509SvidValidator;
import dev.outpost.agent.state.AgentState;
import dev.outpost.agent.state.NodeIdentity;
import dev.outpost.appliance.ca.CaRotation;
import dev.outpost.appliance.ca.OpensslCa;
import dev.outpost.central.app.CentralApp;
import dev.outpost.central.app.Services;
import dev.outpost.central.config.CentralConfig;
import dev.outpost.central.federation.FederationAdmin;
import dev.outpost.central.sites.SiteAdmin;
import dev.outpost.sim.BootProfile;
import dev.outpost.sim.GoodPolicies;
import dev.outpost.sim.SimulatedKernel;
import dev.outpost.testkit.MutableClock;
import dev.outpost.testkit.ProcessRunner;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.keys.DeviceId;
import dev.outpost.tpm.keys.EkTemplate;
import dev.outpost.tpm.keys.Endorsement;
import dev.outpost.tpm.keys.Pem;
import dev.outpost.tpm.keys.TpmKey;

/**
 * The site half and the central half together, both real: a gateway joins central by its own TPM (swtpm), its CA is
 * signed online and nested under central's root, a device's SVID verifies against central's root alone, a foreign
 * trust domain central federates with reaches the device's trust, and the CA rotates through central when the
 * appliance's clock reaches half of its lifetime.
 */
@ExtendWith(SwtpmExtension.class)
class CentralLinkSiteTest {

    @Test
    void aGatewayJoinsByItsTpmAndItsDevicesTrustCentralsRootAlone(Swtpm gateway, Swtpm device, @TempDir Path dir)
            throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(device::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));

        Central central = Central.start(dir.resolve("central"), SiteHarness.TRUST_DOMAIN, 0);
        try (Central partner = Central.start(dir.resolve("partner"), "partner.test", 0)) {
            // The central team registers the site by its gateway's EK (the hash an operator reads off the gateway).
            central.services.admin.add("test-site", gatewayEkHash(gateway), null);
            Path root = central.rootPem(dir.resolve("central-root.pem"));
            // Central federates with a partner trust domain (https_spiffe, bootstrapped from its bundle).
            new FederationAdmin(central.services.db, central.services.clock, SiteHarness.TRUST_DOMAIN).add("partner.test",
                    "https://127.0.0.1:" + partner.app.bundlePort() + "/", "https_spiffe",
                    "spiffe://partner.test/outpost/bundle-endpoint",
                    partner.services.bundle.json(partner.services.bundle.snapshot()));
            central.app.poller().pollDue();

            MutableClock clock = new MutableClock();
            try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                    .attestEvery(Duration.ofSeconds(2), Duration.ofSeconds(60))
                    .withClock(clock)
                    .caConfig("  mode: nested")
                    .agentBundle(root)
                    .extraConfig(SiteHarness.upstreamByTpm(central.app.sitePort(), root, gateway))) {
                site.trustSwtpmManufacturer();
                // Joins (credential activation on the gateway's TPM), gets its CA signed, then serves.
                site.startAppliance();
                SiteAdmin.Detail registered = central.services.admin.show("test-site").orElseThrow();
                assertThat(registered.site().state()).isEqualTo("active");
                assertThat(registered.siteCas()).hasSize(1);

                String id = site.trustWithPolicy(device, dir.resolve("runtime.json"));
                AgentConfig config = site.agentConfig(device, "agent", "rsa2048", "rsa", dir.resolve("securityfs"));
                SiteHarness.Running agent = site.startAgent(config);
                await("node SVID", Duration.ofSeconds(60), () -> nodeSvid(config));

                // openssl, with central's root as the only anchor: the SVID file carries the site CA after the leaf.
                NodeIdentity held = SiteHarness.identity(config);
                Path svid = Files.writeString(dir.resolve("svid.pem"), chainPem(held.chain()));
                ProcessRunner.Result v = OpensslCa.verify(root, svid, svid);
                assertThat(v.stdout()).as(v.toString()).contains(": OK");
                assertThat(held.leaf().getIssuerX500Principal().getName()).contains("test-site");
                // ... and the SPIFFE project's own validator, with central's trust domain bundle as the only source.
                X509SvidValidator.verifyChain(held.chain(), new X509Bundle(TrustDomain.parse(SiteHarness.TRUST_DOMAIN),
                        new java.util.HashSet<>(central.services.bundle.snapshot().authorities())));

                // The partner's roots, from its bundle endpoint through central and the appliance, on the device.
                site.appliance().bundleFollower().orElseThrow().poll();
                AgentState state = new AgentState(config.stateDir());
                await("federated bundle on the device", Duration.ofSeconds(30), () -> {
                    try {
                        return state.federatedBundles().containsKey("partner.test");
                    } catch (java.io.IOException e) {
                        return false;
                    }
                });
                assertThat(state.federatedBundles().get("partner.test")).containsExactlyElementsOf(partner.services.ca.roots());
                SiteHarness.stopAgent(agent);

                // The site's JWT authority went up (POST /v1/site/jwt-authorities): central's trust domain bundle
                // carries the key the site signs JWT-SVIDs with, so central and other sites validate them.
                String siteBundle = new dev.outpost.appliance.admin.AdminClient(site.adminSocket())
                        .get("/v1/bundle?format=spiffe").body();
                java.util.Set<String> siteKids = dev.outpost.spiffe.SpiffeJwks.parse(siteBundle).jwtAuthorities().keySet();
                assertThat(siteKids).hasSize(1);
                Central up = central;
                await("the site's JWT key in central's bundle", Duration.ofSeconds(30), () -> {
                    site.appliance().bundleFollower().orElseThrow().poll();
                    return up.services.bundle.snapshot().jwtAuthorities().keySet().containsAll(siteKids);
                });

                // Half of the CA's lifetime later (on the appliance's clock) the next CA is signed by central and
                // published; at a sixth it becomes the active one.
                // The link is down when that time comes: the site keeps trying (with back-off) and says why; once
                // central is back, the next try gets the next CA signed.
                CaRotation rotation = site.appliance().caRotation();
                Instant prepareAt = rotation.prepareAt();
                int sitePort = central.app.sitePort();
                central.close();
                clock.advance(Duration.between(clock.instant(), prepareAt).plusMinutes(1));
                assertThat(rotation.tick()).isEqualTo(CaRotation.State.RETRYING);
                assertThat(rotation.reason()).isNotEmpty();
                central = Central.start(dir.resolve("central"), SiteHarness.TRUST_DOMAIN, sitePort);
                clock.advance(Duration.ofHours(2));
                assertThat(rotation.tick()).isEqualTo(CaRotation.State.PREPARED);
                assertThat(central.services.admin.show("test-site").orElseThrow().siteCas()).hasSize(2);
                clock.advance(Duration.between(clock.instant(), rotation.activateAt()).plusMinutes(1));
                rotation.tick();
                assertThat(rotation.state()).isEqualTo(CaRotation.State.NONE);
                assertThat(rotation.prepareAt()).as("the CA central signed second is the active one").isAfter(prepareAt);
            }
        } finally {
            central.close();
        }
    }

    static String gatewayEkHash(Swtpm gateway) throws Exception {
        try (Tpm2 tpm = Tpm2.open(gateway.uri()); TpmKey ek = Endorsement.load(tpm, EkTemplate.RSA_2048)) {
            return DeviceId.of(ek.pub().publicKey());
        }
    }

    static String chainPem(List<X509Certificate> chain) throws Exception {
        StringBuilder b = new StringBuilder();
        for (X509Certificate c : chain) {
            b.append(Pem.certificate(c));
        }
        return b.toString();
    }

    private static boolean nodeSvid(AgentConfig config) {
        try {
            NodeIdentity i = SiteHarness.identity(config);
            return i != null && i.spiffeId().contains("/agent/tpm/") && i.validAt(Instant.now());
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /** A central on H2 in a directory of the test, on ports the OS picks (DirectivesSiteTest uses it too). */
    record Central(Services services, CentralApp app) implements AutoCloseable {
        static Central start(Path dir, String trustDomain, int sitePort) throws Exception {
            CentralConfig c = new CentralConfig();
            c.trustDomain = trustDomain;
            c.dataDir = dir.toString();
            c.server.host = "127.0.0.1";
            c.server.port = sitePort;
            c.bundleEndpoint.host = "127.0.0.1";
            c.bundleEndpoint.port = 0;
            c.monitoring.port = 0;
            c.validate();
            Services s = Services.open(c, java.time.Clock.systemUTC());
            try {
                return new Central(s, CentralApp.start(s));
            } catch (Exception e) {
                s.close();
                throw e;
            }
        }

        Path rootPem(Path file) throws Exception {
            return Files.writeString(file, chainPem(services.ca.roots()));
        }

        @Override
        public void close() {
            app.close();
        }
    }
}
