package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.agent.attest.Attester;
import dev.outpost.agent.config.AgentConfig;
import dev.outpost.agent.enroll.DeviceTpm;
import dev.outpost.agent.mqtt.ApplianceClient;
import dev.outpost.appliance.admin.AdminClient;
import dev.outpost.appliance.cli.ApplianceCli;
import dev.outpost.mqtt.protocol.Challenge;
import dev.outpost.mqtt.protocol.ChallengeRequest;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.ProtocolException;
import dev.outpost.mqtt.protocol.Verdict;
import dev.outpost.sim.BootProfile;
import dev.outpost.sim.GoodPolicies;
import dev.outpost.sim.SimulatedKernel;
import dev.outpost.testkit.CliRun;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.eventlog.Event;
import dev.outpost.tpm.eventlog.EventLog;
import dev.outpost.tpm.keys.AkTemplate;
import dev.outpost.tpm.keys.EkTemplate;
import dev.outpost.tpm.quote.QuoteEvidence;
import dev.outpost.tpm.wire.PcrFile;
import dev.outpost.tpm.wire.PcrSelection;

/** Every way evidence can be wrong is caught, each with its own reason. */
@ExtendWith(SwtpmExtension.class)
class AttestationFailureTest {
    private static final PcrSelection PCRS = PcrSelection.parse("sha256:0,1,2,3,4,5,6,7,8,9,10");

    @Test
    void tamperedDevicesFailWithTheirReasonAndRecoverAfterClearAndReboot(Swtpm swtpm, @TempDir Path dir) throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(swtpm::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        kernel.measure("/usr/bin/app", "app v1".getBytes(StandardCharsets.UTF_8));
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));
        Files.write(dir.resolve("boot.json"), GoodPolicies.bootPolicyJson(kernel));
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                .attestEvery(Duration.ofSeconds(2), Duration.ofSeconds(30))) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            String id = site.trustWithPolicy(swtpm, dir.resolve("runtime.json"));
            cli("policy", "add", "boot", "--kind", "boot", "--file", dir.resolve("boot.json").toString(), "--socket",
                    site.adminSocket().toString());
            cli("policy", "assign", "boot", "--device", id, "--socket", site.adminSocket().toString());
            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "rsa", dir.resolve("securityfs"));
            SiteHarness.Running agent = site.startAgent(config);
            await("trusted", Duration.ofSeconds(60), () -> "trusted".equals(SiteAttestationTest.state(site, id)));

            // A listed file with other content.
            kernel.measure("/usr/bin/app", "app v2 (patched by someone)".getBytes(StandardCharsets.UTF_8));
            expectFailure(site, id, "runtime_policy_hash");
            recover(site, id, agent, kernel, swtpm, BootProfile.defaults());

            // PCR 10 extended with nothing in the list to account for it.
            kernel.extendWithoutLog("hidden".getBytes(StandardCharsets.UTF_8));
            expectFailure(site, id, "ima.");
            recover(site, id, agent, kernel, swtpm, BootProfile.defaults());

            // A kernel the measured-boot policy does not know.
            SiteHarness.stopAgent(agent);
            kernel.reboot(swtpm::reboot);
            swtpm.reboot();
            kernel.boot(BootProfile.defaults().withKernelImage("a kernel nobody approved".getBytes(StandardCharsets.UTF_8)));
            SiteHarness.Running again = site.startAgent(config);
            expectFailure(site, id, "boot.application.not_allowed");

            // A boot log that does not replay to the PCRs (one digest byte changed).
            SiteHarness.stopAgent(again);
            cli("device", "clear", id, "--socket", site.adminSocket().toString());
            swtpm.reboot();
            kernel.boot(BootProfile.defaults());
            byte[] log = Files.readAllBytes(kernel.bootLog());
            Event cmdline = EventLog.parse(log).events().stream().filter(e -> e.pcr() == 8).findFirst().orElseThrow();
            int at = indexOf(log, cmdline.digest(HashAlg.SHA256).orElseThrow());
            log[at] ^= 0x01;
            Files.write(kernel.bootLog(), log);
            SiteHarness.Running third = site.startAgent(config);
            expectFailure(site, id, "boot.log");
            SiteHarness.stopAgent(third);
        }
    }

    @Test
    void forgedAndMisdirectedEvidenceIsRefused(Swtpm swtpm, Swtpm other, @TempDir Path dir) throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(swtpm::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                .attestEvery(Duration.ofSeconds(5), Duration.ofSeconds(60)).challengeTtl(Duration.ofSeconds(2))) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            String id = site.trustWithPolicy(swtpm, dir.resolve("runtime.json"));
            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "rsa", dir.resolve("securityfs"));
            // The other device boots too: a device that withholds its boot log fails, and failed devices stay out.
            new SimulatedKernel(other::uri, dir.resolve("other-securityfs")).boot(BootProfile.defaults());
            AgentConfig otherConfig = site.agentConfig(other, "other", "rsa2048", "rsa");
            SiteHarness.Running agent = site.startAgent(config);
            SiteHarness.Running otherAgent = site.startAgent(otherConfig);
            await("trusted", Duration.ofSeconds(60), () -> "trusted".equals(SiteAttestationTest.state(site, id)));
            await("other enrolled", Duration.ofSeconds(60), () -> SiteHarness.hasIdentity(otherConfig));
            SiteHarness.stopAgent(agent);
            SiteHarness.stopAgent(otherAgent);

            DeviceTpm tpm = new DeviceTpm(swtpm.uri(), EkTemplate.RSA_2048, AkTemplate.RSA_2048, config.stateDir());
            DeviceTpm otherTpm = new DeviceTpm(other.uri(), EkTemplate.RSA_2048, AkTemplate.RSA_2048, otherConfig.stateDir());
            try (ApplianceClient c = connect(site, config); ApplianceClient o = connect(site, otherConfig)) {
                // A good one first, kept for replaying.
                Challenge ch = c.request(Kind.CHALLENGE, new ChallengeRequest(1), Challenge.class);
                QuoteEvidence goodQuote = tpm.quote(nonce(ch), PCRS);
                assertThat(evidence(c, ch, goodQuote, kernel, PCRS).state()).isEqualTo("trusted");
                refused(() -> evidence(c, ch, goodQuote, kernel, PCRS), "nonce is not the one issued");

                // The other device's nonce in this device's evidence.
                Challenge theirs = o.request(Kind.CHALLENGE, new ChallengeRequest(1), Challenge.class);
                c.request(Kind.CHALLENGE, new ChallengeRequest(1), Challenge.class);
                refused(() -> evidence(c, theirs, tpm.quote(nonce(theirs), PCRS), kernel, PCRS), "nonce is not the one issued");

                // A nonce answered too late.
                Challenge late = c.request(Kind.CHALLENGE, new ChallengeRequest(1), Challenge.class);
                Thread.sleep(2500);
                assertThatThrownBy(() -> evidence(c, late, tpm.quote(nonce(late), PCRS), kernel, PCRS)).isInstanceOfSatisfying(ProtocolException.class,
                                e -> assertThat(e.code()).isEqualTo(ErrorCode.EXPIRED));

                // A quote by the AK of another TPM over this device's nonce.
                Challenge ch2 = c.request(Kind.CHALLENGE, new ChallengeRequest(1), Challenge.class);
                Verdict foreign = evidence(c, ch2, otherTpm.quote(nonce(ch2), PCRS), kernel, PCRS);
                assertThat(foreign.state()).isEqualTo("failed");
                assertThat(String.join(" ", foreign.reasons())).contains("quote.BAD_SIGNATURE");

            }
            // The agent quoting fewer PCRs than asked for (the failure above cut the connection: a new one, once the
            // operator cleared the device).
            cli("device", "clear", id, "--socket", site.adminSocket().toString());
            try (ApplianceClient c = connect(site, config)) {
                Challenge ch3 = c.request(Kind.CHALLENGE, new ChallengeRequest(1), Challenge.class);
                PcrSelection narrow = PcrSelection.parse("sha256:10");
                Verdict narrowed = evidence(c, ch3, tpm.quote(nonce(ch3), narrow), kernel, narrow);
                assertThat(String.join(" ", narrowed.reasons())).contains("quote.SELECTION_MISMATCH");
            }
        }
    }

    @Test
    void aTpmClockGoingBackwardsWithoutARebootIsCaught(Swtpm swtpm, @TempDir Path dir) throws Exception {
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
            SiteHarness.stopAgent(agent);

            // Reboot, keeping the TPM's state as it was at shutdown; attest a while on the new boot ...
            Path saved = dir.resolve("tpm-state-copy");
            kernel.reboot(() -> swtpm.rebootKeepingState(saved));
            SiteHarness.Running after = site.startAgent(config);
            await("trusted after reboot", Duration.ofSeconds(60), () -> "trusted".equals(after.daemon().verdict()));
            Thread.sleep(3000);
            SiteHarness.stopAgent(after);
            // ... then roll the TPM back to the saved state: same resetCount as now, an older clock.
            kernel.reboot(() -> swtpm.restoreState(saved));
            site.startAgent(config);
            expectFailure(site, id, "tpm.clock");
        }
    }

    private static void expectFailure(SiteHarness site, String id, String reason) throws Exception {
        await("failed with " + reason, Duration.ofSeconds(45), () -> "failed".equals(SiteAttestationTest.state(site, id)));
        String audit = new AdminClient(site.adminSocket()).get("/v1/audit?device=" + id + "&limit=20").body();
        assertThat(audit).contains(reason);
    }

    private static void recover(SiteHarness site, String id, SiteHarness.Running agent, SimulatedKernel kernel,
            Swtpm swtpm, BootProfile profile) throws Exception {
        kernel.reboot(swtpm::reboot);
        assertThat(cli("device", "clear", id, "--socket", site.adminSocket().toString()).exitCode()).isZero();
        await("trusted again", Duration.ofSeconds(60), () -> "trusted".equals(SiteAttestationTest.state(site, id)));
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("digest not in the log");
    }

    private static CliRun cli(String... args) {
        return CliRun.run(ApplianceCli::commandLine, args);
    }

    private static ApplianceClient connect(SiteHarness site, AgentConfig config) throws Exception {
        return SiteHarness.connectWithSvid(site, config);
    }

    private static byte[] nonce(Challenge ch) throws ProtocolException {
        return Codec.base64(ch.nonce(), "nonce", 64);
    }

    /** Evidence as the agent would send it, in parts, but with the quote the test chose. */
    private static Verdict evidence(ApplianceClient c, Challenge ch, QuoteEvidence q, SimulatedKernel kernel,
            PcrSelection sel) throws Exception {
        byte[] list = Files.readAllBytes(kernel.binaryRuntimeMeasurements());
        byte[] ima = ch.imaOffset() == 0 ? list : new byte[0];
        byte[] boot = ch.wantBootLog() ? Files.readAllBytes(kernel.bootLog()) : new byte[0];
        return Attester.send(c, ch, q, sel, ima, boot, null);
    }

    private interface Call {
        Object run() throws Exception;
    }

    private static void refused(Call call, String reason) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(ProtocolException.class,
                e -> assertThat(e.getMessage()).contains(reason));
    }
}
