package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.agent.mqtt.ApplianceClient;
import dev.outpost.mqtt.protocol.Challenge;
import dev.outpost.mqtt.protocol.ChallengeRequest;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.EvidenceAccepted;
import dev.outpost.mqtt.protocol.EvidenceRequest;
import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.ProtocolException;
import dev.outpost.sim.BootProfile;
import dev.outpost.sim.GoodPolicies;
import dev.outpost.sim.SimulatedKernel;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;

/**
 * What all devices may buffer together is bounded: past it a device is told to come back later (RATE_LIMITED with
 * a retry hint), instead of the appliance running out of memory; its challenge goes, and with it its buffer.
 */
@ExtendWith(SwtpmExtension.class)
class EvidenceBudgetTest {
    private static final int MIB = 1 << 20;

    @Test
    void pastTheSiteWideBudgetADeviceIsToldToComeBackLater(Swtpm a, Swtpm b, @TempDir Path dir) throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(a::uri, dir.resolve("a-securityfs"));
        kernel.boot(BootProfile.defaults());
        new SimulatedKernel(b::uri, dir.resolve("b-securityfs")).boot(BootProfile.defaults());
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                .attestEvery(Duration.ofMinutes(10), Duration.ofMinutes(30)).bufferEvidenceAtMost(MIB)) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            AgentConfig ca = site.agentConfig(a, "a", "rsa2048", "rsa");
            AgentConfig cb = site.agentConfig(b, "b", "rsa2048", "rsa");
            SiteHarness.Running ra = site.startAgent(ca);
            SiteHarness.Running rb = site.startAgent(cb);
            await("both enrolled", Duration.ofSeconds(60), () -> SiteHarness.hasIdentity(ca) && SiteHarness.hasIdentity(cb));
            SiteHarness.stopAgent(ra);
            SiteHarness.stopAgent(rb);

            try (ApplianceClient first = connect(site, ca); ApplianceClient second = connect(site, cb)) {
                // The first device's upload is under way: 20 parts of 32 KiB (640 KiB) held for its challenge.
                Challenge c1 = first.request(Kind.CHALLENGE, new ChallengeRequest(1), Challenge.class);
                byte[] chunk = new byte[c1.maxChunkBytes()];
                for (int part = 0; part < 20; part++) {
                    first.request(Kind.EVIDENCE, part(c1, part, chunk), EvidenceAccepted.class);
                }
                // The second one's would take the total past 1 MiB.
                Challenge c2 = second.request(Kind.CHALLENGE, new ChallengeRequest(1), Challenge.class);
                int part = 0;
                ProtocolException refused = null;
                while (refused == null && part < 20) {
                    try {
                        second.request(Kind.EVIDENCE, part(c2, part++, chunk), EvidenceAccepted.class);
                    } catch (ProtocolException e) {
                        refused = e;
                    }
                }
                assertThat(refused).isNotNull();
                assertThat(refused.code()).isEqualTo(ErrorCode.RATE_LIMITED);
                assertThat(refused.getMessage()).contains("busy verifying other devices");
                assertThat(refused.retryAfterMs()).isBetween(5_000L, 10_000L);
                assertThat(part).as("it got in until the budget was used").isGreaterThan(5);
                // Its challenge is gone with its buffer; the first device goes on.
                final int next = part;
                assertThatThrownBy(() -> second.request(Kind.EVIDENCE, part(c2, next, chunk), EvidenceAccepted.class))
                        .isInstanceOfSatisfying(ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.FORBIDDEN));
                first.request(Kind.EVIDENCE, part(c1, 20, chunk), EvidenceAccepted.class);
            }
        }
    }

    private static EvidenceRequest part(Challenge ch, int part, byte[] chunk) {
        return new EvidenceRequest(1, ch.nonce(), part, true, Codec.base64(chunk), null, null, null, null, null);
    }

    private static ApplianceClient connect(SiteHarness site, AgentConfig config) throws Exception {
        return SiteHarness.connectWithSvid(site, config);
    }
}
