package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.agent.attest.Attester;
import dev.outpost.agent.config.AgentConfig;
import dev.outpost.agent.enroll.DeviceTpm;
import dev.outpost.agent.mqtt.ApplianceClient;
import dev.outpost.ima.list.ImaEntry;
import dev.outpost.ima.list.ImaListWriter;
import dev.outpost.mqtt.protocol.Challenge;
import dev.outpost.mqtt.protocol.ChallengeRequest;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.Verdict;
import dev.outpost.sim.BootProfile;
import dev.outpost.sim.GoodPolicies;
import dev.outpost.sim.SimulatedKernel;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.tpm.keys.AkTemplate;
import dev.outpost.tpm.keys.EkTemplate;
import dev.outpost.tpm.quote.QuoteEvidence;
import dev.outpost.tpm.wire.PcrSelection;

/**
 * The IMA state a device earned is kept in H2 across appliance restarts: after one, the appliance asks the device
 * for the entries after the last verified one, not for the whole list again; only a reboot of the device starts
 * over from entry 0. The test speaks for the device itself (real swtpm, simulated kernel) so it sees every
 * challenge's IMA offset.
 */
@ExtendWith(SwtpmExtension.class)
class ImaStateRestartTest {
    private static final byte[] APP = "app v1".getBytes(StandardCharsets.UTF_8);
    private static final byte[] TOOL = "tool v1".getBytes(StandardCharsets.UTF_8);

    @Test
    void anApplianceRestartKeepsTheImaOffsetAndADeviceRebootStartsOver(Swtpm swtpm, @TempDir Path dir)
            throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(swtpm::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        kernel.measure("/usr/bin/app", APP);
        kernel.measure("/usr/bin/tool", TOOL);
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));
        // Routine passes are not written on a timer here (an hour): a restart must keep them through the write at
        // shutdown.
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                .attestEvery(Duration.ofHours(1), Duration.ofHours(2)).flushEvery(Duration.ofHours(1))) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            String id = site.trustWithPolicy(swtpm, dir.resolve("runtime.json"));
            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "rsa", dir.resolve("securityfs"));
            SiteHarness.Running agent = site.startAgent(config);
            await("trusted", Duration.ofSeconds(60), () -> "trusted".equals(SiteAttestationTest.state(site, id)));
            SiteHarness.stopAgent(agent);
            DeviceTpm tpm = new DeviceTpm(swtpm.uri(), EkTemplate.RSA_2048, AkTemplate.RSA_2048, config.stateDir());

            // The verdict that made the device trusted was written at once: a restart keeps its place in the list.
            long firstPass = kernel.listLength();
            site.stopAppliance();
            Instant started = Instant.now();
            site.startAppliance();

            // A routine pass (trusted stays trusted) over a newly measured entry: held in memory. The stale sweep
            // writes such passes too, at the latest 10 s after the start, so the pass and the restart below happen
            // before it: only the write at shutdown can keep the pass.
            kernel.measure("/usr/bin/app", APP);
            try (ApplianceClient c = connect(site, config)) {
                Challenge ch = challenge(c);
                assertThat(ch.imaOffset()).isEqualTo(firstPass);
                assertThat(attest(c, ch, tpm, kernel).state()).isEqualTo("trusted");
            }
            long verified = kernel.listLength();
            assertThat(verified).isEqualTo(firstPass + 1);
            site.stopAppliance();
            assertThat(Duration.between(started, Instant.now())).as("pass and restart before the first stale sweep")
                    .isLessThan(Duration.ofSeconds(9));
            site.startAppliance();

            kernel.measure("/usr/bin/tool", TOOL);
            try (ApplianceClient c = connect(site, config)) {
                Challenge ch = challenge(c);
                // Not 0, and not the offset before the routine pass: the shutdown wrote it.
                assertThat(ch.imaOffset()).isEqualTo(verified);
                assertThat(ch.wantBootLog()).isFalse();
                Verdict v = attest(c, ch, tpm, kernel);
                assertThat(v.state()).as(String.join("; ", v.reasons())).isEqualTo("trusted");
                assertThat(challenge(c).imaOffset()).isEqualTo(kernel.listLength());
            }

            // The device reboots: a new list, PCR 10 from zero, resetCount up.
            long beforeReboot = kernel.listLength();
            kernel.reboot(swtpm::reboot);
            kernel.measure("/usr/bin/app", APP);
            try (ApplianceClient c = connect(site, config)) {
                // The appliance learns of the reboot from the quote: the first answer sends it back to entry 0.
                Challenge stale = challenge(c);
                assertThat(stale.imaOffset()).isEqualTo(beforeReboot);
                Verdict told = attest(c, stale, tpm, kernel);
                assertThat(told.state()).isEqualTo("pending");
                assertThat(String.join(" ", told.reasons())).contains("tpm.reboot");

                Challenge fromZero = challenge(c);
                assertThat(fromZero.imaOffset()).isZero();
                assertThat(fromZero.wantBootLog()).isTrue();
                Verdict v = attest(c, fromZero, tpm, kernel);
                assertThat(v.state()).as(String.join("; ", v.reasons())).isEqualTo("trusted");
                assertThat(challenge(c).imaOffset()).isEqualTo(kernel.listLength());
            }

            // And the new boot's state survives a restart too.
            long afterReboot = kernel.listLength();
            site.stopAppliance();
            site.startAppliance();
            try (ApplianceClient c = connect(site, config)) {
                assertThat(challenge(c).imaOffset()).isEqualTo(afterReboot);
            }
        }
    }

    private static Challenge challenge(ApplianceClient c) throws Exception {
        return c.request(Kind.CHALLENGE, new ChallengeRequest(1), Challenge.class);
    }

    /** What the agent sends: a fresh quote, the entries from the challenge's offset on, the boot log if asked. */
    private static Verdict attest(ApplianceClient c, Challenge ch, DeviceTpm tpm, SimulatedKernel kernel)
            throws Exception {
        PcrSelection sel = PcrSelection.parse(ch.pcrSelection());
        QuoteEvidence q = tpm.quote(Codec.base64(ch.nonce(), "nonce", 64), sel);
        List<ImaEntry> entries = kernel.entries();
        ByteArrayOutputStream ima = new ByteArrayOutputStream();
        for (ImaEntry e : entries.subList((int) Math.min(ch.imaOffset(), entries.size()), entries.size())) {
            ImaListWriter.writeBinary(ima, e);
        }
        byte[] boot = ch.wantBootLog() ? kernel.bootLogBytes() : new byte[0];
        return Attester.send(c, ch, q, sel, ima.toByteArray(), boot, null);
    }

    private static ApplianceClient connect(SiteHarness site, AgentConfig config) throws Exception {
        return SiteHarness.connectWithSvid(site, config);
    }
}
