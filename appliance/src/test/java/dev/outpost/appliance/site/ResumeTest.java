package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.agent.enroll.DeviceTpm;
import dev.outpost.agent.mqtt.ApplianceClient;
import dev.outpost.agent.state.AgentState;
import dev.outpost.agent.state.NodeIdentity;
import dev.outpost.agent.tls.TlsContexts;
import dev.outpost.appliance.admin.AdminClient;
import dev.outpost.appliance.ca.IssuedSvid;
import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.ProtocolException;
import dev.outpost.mqtt.protocol.ResumeChallenge;
import dev.outpost.mqtt.protocol.ResumeChallengeRequest;
import dev.outpost.mqtt.protocol.ResumeRequest;
import dev.outpost.mqtt.protocol.SvidIssued;
import dev.outpost.mqtt.protocol.Topics;
import dev.outpost.sim.BootProfile;
import dev.outpost.sim.GoodPolicies;
import dev.outpost.sim.SimulatedKernel;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.tpm.keys.AkTemplate;
import dev.outpost.tpm.keys.EkTemplate;
import dev.outpost.tpm.keys.Pem;
import dev.outpost.tpm.quote.QuoteEvidence;
import dev.outpost.tpm.wire.PcrFile;
import dev.outpost.tpm.wire.PcrSelection;

/**
 * An agent whose SVID expired while the appliance was away proves its TPM with the enrolled AK and carries on: no
 * re-enrollment, the appliance keeps what it verified. A resume that does not verify is refused and fails nobody.
 */
@ExtendWith(SwtpmExtension.class)
class ResumeTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void anExpiredSvidIsResumedWithTheEnrolledAkNotReEnrolled(Swtpm swtpm, Swtpm other, @TempDir Path dir)
            throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(swtpm::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                .attestEvery(Duration.ofSeconds(2), Duration.ofSeconds(60))) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            String id = site.trustWithPolicy(swtpm, dir.resolve("runtime.json"));
            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "rsa", dir.resolve("securityfs"));
            SiteHarness.Running agent = site.startAgent(config);
            await("trusted", Duration.ofSeconds(60), () -> "trusted".equals(SiteAttestationTest.state(site, id)));
            await("node SVID", Duration.ofSeconds(30), () -> nodeSvid(config));
            SiteHarness.stopAgent(agent);

            // A stranger asks to resume in the device's name and answers with another TPM's quote: refused, and the
            // device is not failed for it (the request carried no SVID, anyone could have sent it).
            DeviceTpm otherTpm = new DeviceTpm(other.uri(), EkTemplate.RSA_2048, AkTemplate.RSA_2048,
                    dir.resolve("stranger"));
            try (ApplianceClient c = new ApplianceClient("127.0.0.1", site.mqttPort(), id, new Topics(), new Codec(),
                    Duration.ofSeconds(20))) {
                c.connect(TlsContexts.context(TlsContexts.trusting(SiteHarness.identity(config).bundle()), null));
                ResumeChallenge ch = c.request(Kind.RESUME_CHALLENGE, new ResumeChallengeRequest(1), ResumeChallenge.class);
                PcrSelection sel = PcrSelection.parse(ch.pcrSelection());
                QuoteEvidence forged = otherTpm.quote(Codec.base64(ch.nonce(), "nonce", 64), sel);
                assertThatThrownBy(() -> c.request(Kind.RESUME, new ResumeRequest(1, ch.nonce(),
                        Codec.base64(forged.attest()), Codec.base64(forged.signature()),
                        Codec.base64(PcrFile.write(forged.pcrs(), sel)), Codec.base64(new byte[] {1})), SvidIssued.class))
                        .isInstanceOfSatisfying(ProtocolException.class, e -> {
                            assertThat(e.code()).isEqualTo(ErrorCode.FORBIDDEN);
                            assertThat(e.getMessage()).contains("does not verify under the enrolled AK");
                        });
                // The nonce was single use.
                assertThatThrownBy(() -> c.request(Kind.RESUME, new ResumeRequest(1, ch.nonce(), "AA==", "AA==", "AA==",
                        "AA=="), SvidIssued.class)).isInstanceOf(ProtocolException.class);
            }
            assertThat(SiteAttestationTest.state(site, id)).isEqualTo("trusted");

            // The appliance was away longer than the SVID lived: the agent holds an expired one.
            expireSvid(site, config, id);
            assertThat(SiteHarness.identity(config).validAt(Instant.now())).isFalse();

            SiteHarness.Running back = site.startAgent(config);
            await("trusted with a fresh node SVID", Duration.ofSeconds(60), () -> nodeSvid(config)
                    && "trusted".equals(back.daemon().verdict()));
            String audit = new AdminClient(site.adminSocket()).get("/v1/audit?device=" + id + "&limit=200").body();
            assertThat(count(audit, "activate")).as("enrolled once, never again").isEqualTo(1);
            assertThat(count(audit, "resume")).isEqualTo(1);
            assertThat(audit).contains("no re-enrollment");
        }
    }

    private static void expireSvid(SiteHarness site, AgentConfig config, String deviceId) throws Exception {
        NodeIdentity held = SiteHarness.identity(config);
        // The site CA, as it stood two hours ago, issued this SVID for the agent's own key: valid then, expired now.
        SiteCa past = SiteCa.loadOrCreate(site.caPem().getParent(), SiteHarness.TRUST_DOMAIN, "test-site",
                Duration.ofDays(365), Clock.fixed(Instant.now().minus(Duration.ofHours(2)), ZoneOffset.UTC));
        IssuedSvid expired = past.issueNodeSvid(held.leaf().getPublicKey(), deviceId, Duration.ofHours(1));
        StringBuilder bundle = new StringBuilder();
        for (var c : held.bundle()) {
            bundle.append(Pem.certificate(c));
        }
        new AgentState(config.stateDir()).save(held.key(), expired.chainPem(), bundle.toString());
    }

    private static boolean nodeSvid(AgentConfig config) {
        try {
            NodeIdentity i = SiteHarness.identity(config);
            return i != null && i.spiffeId().contains("/agent/tpm/") && i.validAt(Instant.now());
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static long count(String auditJson, String action) throws Exception {
        long n = 0;
        for (JsonNode e : JSON.readTree(auditJson)) {
            if (action.equals(e.path("action").asText()) && "allow".equalsIgnoreCase(e.path("decision").asText())) {
                n++;
            }
        }
        return n;
    }
}
