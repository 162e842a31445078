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
import dev.outpost.agent.enroll.DeviceTpm;
import dev.outpost.agent.mqtt.ApplianceClient;
import dev.outpost.agent.state.AgentState;
import dev.outpost.agent.tls.TlsContexts;
import dev.outpost.appliance.cli.ApplianceCli;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.EnrollChallenge;
import dev.outpost.mqtt.protocol.EnrollRequest;
import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.ProtocolException;
import dev.outpost.mqtt.protocol.Topics;
import dev.outpost.testkit.CliRun;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.tpm.keys.AkTemplate;
import dev.outpost.tpm.keys.EkTemplate;

/** Enrollment through a whole site under `ekTrust: hash` and `ekTrust: both`, with swtpm EKs and their certificates. */
@ExtendWith(SwtpmExtension.class)
class EkTrustModeSiteTest {

    @Test
    void hashEnrollsAListedEkAndRefusesAnUnlistedOneWhoseChainIsValid(Swtpm swtpm, @TempDir Path dir)
            throws Exception {
        try (SiteHarness site = new SiteHarness(dir, "hash", Duration.ofHours(1))) {
            // The manufacturer is trusted, so the refusal below is the allow-list's alone.
            site.trustSwtpmManufacturer();
            site.startAppliance();
            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "rsa");
            DeviceTpm tpm = new DeviceTpm(config.tpm(), EkTemplate.RSA_2048, AkTemplate.RSA_2048, config.stateDir());
            DeviceTpm.Endorsed ek = tpm.endorsement();
            byte[] ak = tpm.attestationKey().pub().encodedSized();
            try (ApplianceClient c = connect(site, ek.deviceId())) {
                refused(() -> enroll(c, ek, ek.ekCertificate(), ak), "is not on the allow-list");
                allow(site, ek.deviceId());
                // Listed: no certificate is needed.
                assertThat(enroll(c, ek, null, ak).expiresAt()).isPositive();
            }
            SiteHarness.Running agent = site.startAgent(config);
            await("enrolled", Duration.ofSeconds(60), () -> SiteHarness.hasIdentity(config));
            SiteHarness.stopAgent(agent);
        }
    }

    @Test
    void bothRefusesAListedEkWithoutAChainAndAChainedEkNotListed(Swtpm swtpm, Swtpm unlisted, @TempDir Path dir)
            throws Exception {
        try (SiteHarness site = new SiteHarness(dir, "both", Duration.ofHours(1))) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "rsa");
            DeviceTpm tpm = new DeviceTpm(config.tpm(), EkTemplate.RSA_2048, AkTemplate.RSA_2048, config.stateDir());
            DeviceTpm.Endorsed ek = tpm.endorsement();
            byte[] ak = tpm.attestationKey().pub().encodedSized();
            AgentConfig otherConfig = site.agentConfig(unlisted, "other", "rsa2048", "rsa");
            DeviceTpm otherTpm = new DeviceTpm(otherConfig.tpm(), EkTemplate.RSA_2048, AkTemplate.RSA_2048,
                    otherConfig.stateDir());
            DeviceTpm.Endorsed otherEk = otherTpm.endorsement();
            allow(site, ek.deviceId());
            try (ApplianceClient c = connect(site, ek.deviceId());
                    ApplianceClient o = connect(site, otherEk.deviceId())) {
                refused(() -> enroll(c, ek, null, ak), "no EK certificate was presented (both required)");
                // Its certificate chains to the trusted manufacturer, but the EK is not listed.
                refused(() -> enroll(o, otherEk, otherEk.ekCertificate(), otherTpm.attestationKey().pub().encodedSized()),
                        "is not on the allow-list (both required)");
            }
            SiteHarness.Running agent = site.startAgent(config);
            await("enrolled", Duration.ofSeconds(60), () -> SiteHarness.hasIdentity(config));
            SiteHarness.stopAgent(agent);
        }
    }

    private static void allow(SiteHarness site, String deviceId) {
        CliRun r = CliRun.run(ApplianceCli::commandLine, "device", "allow", deviceId, "--socket",
                site.adminSocket().toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
    }

    private static ApplianceClient connect(SiteHarness site, String deviceId) throws Exception {
        ApplianceClient c = new ApplianceClient("127.0.0.1", site.appliance().mqttPort(), deviceId, new Topics(),
                new Codec(), Duration.ofSeconds(20));
        c.connect(TlsContexts.context(TlsContexts.trusting(AgentState.certificates(Files.readString(site.caPem()))), null));
        return c;
    }

    private static EnrollChallenge enroll(ApplianceClient c, DeviceTpm.Endorsed ek, byte[] cert, byte[] akPublic)
            throws Exception {
        return c.request(Kind.ENROLL, new EnrollRequest(1, Codec.base64(ek.ekPublic()),
                cert == null ? null : Codec.base64(cert), Codec.base64(akPublic)), EnrollChallenge.class);
    }

    private interface Call {
        Object run() throws Exception;
    }

    private static void refused(Call call, String reason) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(ProtocolException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.NOT_TRUSTED);
            assertThat(e.getMessage()).contains(reason);
        });
    }
}
