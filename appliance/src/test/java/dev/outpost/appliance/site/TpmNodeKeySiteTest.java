package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.agent.cli.AgentCli;
import dev.outpost.agent.config.AgentConfig;
import dev.outpost.agent.enroll.DeviceTpm;
import dev.outpost.agent.enroll.NodeKeys;
import dev.outpost.agent.mqtt.ApplianceClient;
import dev.outpost.agent.state.AgentState;
import dev.outpost.agent.state.NodeIdentity;
import dev.outpost.agent.tls.TlsContexts;
import dev.outpost.appliance.admin.AdminClient;
import dev.outpost.appliance.cli.ApplianceCli;
import dev.outpost.mqtt.protocol.ActivateRequest;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.DeviceStatus;
import dev.outpost.mqtt.protocol.EnrollChallenge;
import dev.outpost.mqtt.protocol.EnrollRequest;
import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.ProtocolException;
import dev.outpost.mqtt.protocol.StatusRequest;
import dev.outpost.mqtt.protocol.SvidIssued;
import dev.outpost.mqtt.protocol.Topics;
import dev.outpost.sim.BootProfile;
import dev.outpost.sim.GoodPolicies;
import dev.outpost.sim.SimulatedKernel;
import dev.outpost.testkit.CliRun;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.certify.Certification;
import dev.outpost.tpm.credential.CredentialBlob;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.jca.TpmPrivateKey;
import dev.outpost.tpm.keys.AkTemplate;
import dev.outpost.tpm.keys.AttestationKey;
import dev.outpost.tpm.keys.EkTemplate;
import dev.outpost.tpm.keys.NodeKey;
import dev.outpost.tpm.keys.NodeKeyTemplate;
import dev.outpost.tpm.keys.StorageParent;
import dev.outpost.tpm.keys.TpmKey;
import dev.outpost.tpm.wire.ObjectAttributes;

/**
 * Node keys held by the device TPM (issue 17), end to end: the agent makes its node key in swtpm, the AK certifies it,
 * the appliance checks that before it signs the CSR, and the agent's mTLS signatures are made by the TPM. CSRs whose
 * key the AK has not certified (no certification, another TPM's AK, a key the TPM may release, a stale nonce) are
 * refused with their reason; software node keys only where the appliance allows them, and marked.
 */
@ExtendWith(SwtpmExtension.class)
class TpmNodeKeySiteTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aNodeKeyInTheTpmIsCertifiedCheckedAndSignsTheMtlsHandshake(Swtpm swtpm, @TempDir Path dir) throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(swtpm::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        kernel.measure("/usr/bin/outpost-agent", "agent".getBytes(StandardCharsets.UTF_8));
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofMinutes(10))
                .attestEvery(Duration.ofSeconds(4), Duration.ofSeconds(30))) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            String socket = site.adminSocket().toString();
            String deviceId = JSON.readTree(CliRun.run(AgentCli::commandLine, "tpm", "ek", "--tpm", swtpm.uri(), "--json")
                    .out()).path("deviceId").asText();
            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "ecc", dir.resolve("securityfs"));
            SiteHarness.Running agent = site.startAgent(config);
            await("connected with the probationary SVID", Duration.ofSeconds(60),
                    () -> "connected".equals(agent.daemon().status()));

            // The private key is nowhere on disk: the state holds the AK's and the node key's TPM blobs only.
            Set<String> files = files(config.stateDir());
            assertThat(files).contains("node.tpmkey", "ak.pub", "ak.priv", "svid.pem", "bundle.pem")
                    .doesNotContain("node.key");
            NodeIdentity id = SiteHarness.identity(config);
            assertThat(id.key()).isInstanceOf(TpmPrivateKey.class);
            assertThat(id.key().getEncoded()).isNull();
            NodeKey held = ((TpmPrivateKey) id.key()).nodeKey();
            assertThat(held.pub().publicKey()).isEqualTo(id.leaf().getPublicKey());
            assertThat(held.pub().has(ObjectAttributes.FIXED_TPM | ObjectAttributes.FIXED_PARENT
                    | ObjectAttributes.SENSITIVE_DATA_ORIGIN | ObjectAttributes.SIGN)).isTrue();

            // The appliance checked the certification, bound the key's Name and marked the device.
            String shown = new AdminClient(site.adminSocket()).get("/v1/devices/" + deviceId).body();
            assertThat(shown).contains("outpost:node-key:tpm").doesNotContain("outpost:node-key:software");
            String audit = new AdminClient(site.adminSocket()).get("/v1/audit?device=" + deviceId + "&limit=50").body();
            assertThat(audit).contains("TPM node key " + java.util.HexFormat.of().formatHex(held.pub().name())
                    + " certified by the AK");

            // mTLS with that identity works, its CertificateVerify signed by the TPM (no other way to sign exists).
            try (ApplianceClient c = SiteHarness.connectWithSvid(site, config)) {
                DeviceStatus st = c.request(Kind.STATUS, new StatusRequest(1), DeviceStatus.class);
                assertThat(st.deviceId()).isEqualTo(deviceId);
            }
            // And without the TPM it cannot: the same state opened without its TPM has no way to sign.
            NodeIdentity detached = new AgentState(config.stateDir()).identity().orElseThrow();
            assertThatThrownBy(() -> {
                try (ApplianceClient c = new ApplianceClient("127.0.0.1", site.mqttPort(), deviceId, new Topics(),
                        new Codec(), Duration.ofSeconds(10))) {
                    c.connect(TlsContexts.context(TlsContexts.trusting(detached.bundle()), detached));
                }
            }).isNotNull();

            // A passing attestation renews the SVID through the evidence, with a new key the AK certified over the
            // challenge nonce; the old key's blob is gone.
            assertThat(cli("policy", "add", "runtime", "--kind", "runtime", "--file", dir.resolve("runtime.json").toString(),
                    "--socket", socket).exitCode()).isZero();
            assertThat(cli("policy", "assign", "runtime", "--device", deviceId, "--socket", socket).exitCode()).isZero();
            await("node SVID", Duration.ofSeconds(60), () -> {
                try {
                    NodeIdentity now = SiteHarness.identity(config);
                    return now != null && now.spiffeId().contains("/agent/tpm/");
                } catch (java.io.IOException e) {
                    return false;
                }
            });
            NodeKey renewed = ((TpmPrivateKey) SiteHarness.identity(config).key()).nodeKey();
            assertThat(renewed.pub().name()).isNotEqualTo(held.pub().name());
            assertThat(files(config.stateDir())).doesNotContain("node.key");
            await("connected with the node SVID", Duration.ofSeconds(30),
                    () -> "connected".equals(agent.daemon().status()));
            String after = new AdminClient(site.adminSocket()).get("/v1/audit?device=" + deviceId + "&limit=50").body();
            assertThat(after).contains("renewal after attestation").contains(
                    "TPM node key " + java.util.HexFormat.of().formatHex(renewed.pub().name()));
        }
    }

    /** {@code nodeKey: tpm-rsa}: an RSA 2048 node key in the TPM, certified, and TLS 1.3 signing RSA-PSS through it. */
    @Test
    void anRsaNodeKeyInTheTpmEnrollsAttestsAndSignsTls13(Swtpm swtpm, @TempDir Path dir) throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(swtpm::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofMinutes(10))
                .attestEvery(Duration.ofSeconds(4), Duration.ofSeconds(30))) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            String socket = site.adminSocket().toString();
            site.agentConfig(swtpm, "agent", "rsa2048", "ecc", dir.resolve("securityfs"));
            Path yaml = dir.resolve("agent.yaml");
            Files.writeString(yaml, Files.readString(yaml) + "nodeKey: tpm-rsa\n");
            AgentConfig config = AgentConfig.load(yaml);
            String deviceId = JSON.readTree(CliRun.run(AgentCli::commandLine, "tpm", "ek", "--tpm", swtpm.uri(), "--json")
                    .out()).path("deviceId").asText();
            assertThat(cli("policy", "add", "runtime", "--kind", "runtime", "--file", dir.resolve("runtime.json").toString(),
                    "--socket", socket).exitCode()).isZero();
            assertThat(cli("policy", "assign", "runtime", "--device", deviceId, "--socket", socket).exitCode()).isZero();
            SiteHarness.Running agent = site.startAgent(config);
            // The node SVID comes only after an attestation over mTLS with the probationary SVID: a TLS 1.3
            // handshake whose CertificateVerify the TPM signed with RSA-PSS.
            await("node SVID", Duration.ofSeconds(90), () -> {
                try {
                    NodeIdentity now = SiteHarness.identity(config);
                    return now != null && now.spiffeId().contains("/agent/tpm/");
                } catch (java.io.IOException e) {
                    return false;
                }
            });
            NodeIdentity id = SiteHarness.identity(config);
            assertThat(id.leaf().getPublicKey().getAlgorithm()).isEqualTo("RSA");
            assertThat(((java.security.interfaces.RSAPublicKey) id.leaf().getPublicKey()).getModulus().bitLength())
                    .isEqualTo(2048);
            assertThat(id.key()).isInstanceOf(TpmPrivateKey.class);
            assertThat(files(config.stateDir())).contains("node.tpmkey").doesNotContain("node.key");
            String shown = new AdminClient(site.adminSocket()).get("/v1/devices/" + deviceId).body();
            assertThat(shown).contains("outpost:node-key:tpm");
            assertThat(JSON.readTree(shown).path("state").asText()).isEqualTo("trusted");
            try (ApplianceClient c = SiteHarness.connectWithSvid(site, config)) {
                assertThat(c.request(Kind.STATUS, new StatusRequest(1), DeviceStatus.class).deviceId()).isEqualTo(deviceId);
            }
            await("connected with the node SVID", Duration.ofSeconds(30),
                    () -> "connected".equals(agent.daemon().status()));
        }
    }

    @Test
    void csrsWhoseKeyTheAkDidNotCertifyAreRefusedWithTheirReason(Swtpm swtpm, Swtpm other, @TempDir Path dir)
            throws Exception {
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "ecc");
            DeviceTpm tpm = DeviceTpm.of(config);
            DeviceTpm.Endorsed ek = tpm.endorsement();
            AttestationKey ak = tpm.attestationKey();
            NodeKeys nodeKeys = new NodeKeys(tpm, false);
            DeviceTpm otherTpm = new DeviceTpm(other.uri(), EkTemplate.RSA_2048, AkTemplate.ECC_P256, dir.resolve("other"));
            NodeKeys otherKeys = new NodeKeys(otherTpm, false);

            try (ApplianceClient c = connect(site, ek.deviceId())) {
                // A software key, no certification: tpm mode refuses it.
                byte[] secret = activateCredential(c, tpm, ek, ak);
                KeyPair soft = NodeKeys.generate();
                assertRefused(() -> c.request(Kind.ACTIVATE, new ActivateRequest(1, Codec.base64(secret),
                        Codec.base64(NodeKeys.csr(soft, ek.deviceId()))), SvidIssued.class),
                        "not certified by the device's AK");

                // A TPM key of another TPM, certified by that TPM's AK over the right nonce: not this device's AK.
                byte[] secret2 = activateCredential(c, tpm, ek, ak);
                KeyPair foreign = otherKeys.newKey();
                Certification byOther = otherKeys.certify(foreign, HashAlg.SHA256.digest(secret2));
                assertRefused(() -> activate(c, secret2, foreign, byOther, ek.deviceId()), "BAD_SIGNATURE");

                // A key of this TPM that it may release (neither fixedTPM nor fixedParent), certified by our AK.
                byte[] secret3 = activateCredential(c, tpm, ek, ak);
                NodeKey releasable;
                try (Tpm2 t = Tpm2.open(swtpm.uri()); TpmKey srk = StorageParent.load(t)) {
                    releasable = NodeKey.create(t, srk, NodeKeyTemplate.ECC_P256.template(
                            ObjectAttributes.SENSITIVE_DATA_ORIGIN | ObjectAttributes.USER_WITH_AUTH | ObjectAttributes.SIGN));
                }
                KeyPair loose = new KeyPair(releasable.pub().publicKey(), NodeKeys.tpmPrivateKey(tpm, releasable));
                Certification looseCert = tpm.certify(releasable, HashAlg.SHA256.digest(secret3));
                assertRefused(() -> activate(c, secret3, loose, looseCert, ek.deviceId()), "WRONG_ATTRIBUTES");

                // A good key certified over another nonce (a replayed certification).
                byte[] secret4 = activateCredential(c, tpm, ek, ak);
                KeyPair good = nodeKeys.newKey();
                Certification stale = nodeKeys.certify(good, HashAlg.SHA256.digest(secret3));
                assertRefused(() -> activate(c, secret4, good, stale, ek.deviceId()), "NONCE_MISMATCH");

                // The certification of one key with the CSR of another.
                byte[] secret5 = activateCredential(c, tpm, ek, ak);
                KeyPair second = nodeKeys.newKey();
                Certification ofGood = nodeKeys.certify(good, HashAlg.SHA256.digest(secret5));
                assertRefused(() -> activate(c, secret5, second, ofGood, ek.deviceId()), "KEY_MISMATCH");

                // Done right, it is accepted.
                byte[] secret6 = activateCredential(c, tpm, ek, ak);
                SvidIssued ok = activate(c, secret6, good, nodeKeys.certify(good, HashAlg.SHA256.digest(secret6)),
                        ek.deviceId());
                assertThat(ok.spiffeId()).endsWith(ek.deviceId());
            }
            String shown = new AdminClient(site.adminSocket()).get("/v1/devices/" + ek.deviceId()).body();
            assertThat(shown).contains("outpost:node-key:tpm");
            String audit = new AdminClient(site.adminSocket()).get("/v1/audit?device=" + ek.deviceId() + "&limit=50")
                    .body();
            // The audit log coalesces repeated refusals of one device and action: the first one stands for the rest.
            assertThat(audit).contains("not certified by the device's AK").contains("certified by the AK");
        }
    }

    @Test
    void aSoftwareNodeKeyOnlyWhereAllowedAndThenMarked(Swtpm swtpm, @TempDir Path dir) throws Exception {
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1)).allowSoftwareNodeKeys()) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            AgentConfig config = SiteHarness.withNodeKey(site.agentConfig(swtpm, "agent", "rsa2048", "rsa"), "software");
            SiteHarness.Running agent = site.startAgent(config);
            await("connected", Duration.ofSeconds(60), () -> "connected".equals(agent.daemon().status()));
            assertThat(files(config.stateDir())).contains("node.key").doesNotContain("node.tpmkey");
            assertThat(SiteHarness.identity(config).key()).isNotInstanceOf(TpmPrivateKey.class);
            String deviceId = SiteHarness.identity(config).spiffeId().replaceAll(".*/", "");
            String shown = new AdminClient(site.adminSocket()).get("/v1/devices/" + deviceId).body();
            assertThat(shown).contains("outpost:node-key:software").doesNotContain("outpost:node-key:tpm");
        }
    }

    private static Set<String> files(Path dir) throws java.io.IOException {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    private static ApplianceClient connect(SiteHarness site, String deviceId) throws Exception {
        ApplianceClient c = new ApplianceClient("127.0.0.1", site.appliance().mqttPort(), deviceId, new Topics(),
                new Codec(), Duration.ofSeconds(20));
        c.connect(TlsContexts.context(TlsContexts.trusting(AgentState.certificates(Files.readString(site.caPem()))), null));
        return c;
    }

    /** enroll, and the secret the TPM recovers from the appliance's credential. */
    private static byte[] activateCredential(ApplianceClient c, DeviceTpm tpm, DeviceTpm.Endorsed ek, AttestationKey ak)
            throws Exception {
        EnrollChallenge ch = c.request(Kind.ENROLL, new EnrollRequest(1, Codec.base64(ek.ekPublic()),
                Codec.base64(ek.ekCertificate()), Codec.base64(ak.pub().encodedSized())), EnrollChallenge.class);
        return tpm.activate(ak, new CredentialBlob(Codec.base64(ch.credentialBlob(), "b", 1024),
                Codec.base64(ch.encryptedSecret(), "s", 1024)));
    }

    private static SvidIssued activate(ApplianceClient c, byte[] secret, KeyPair key, Certification cert, String deviceId)
            throws Exception {
        String[] proof = NodeKeys.fields(cert);
        return c.request(Kind.ACTIVATE, new ActivateRequest(1, Codec.base64(secret),
                Codec.base64(NodeKeys.csr(key, deviceId)), proof[0], proof[1], proof[2]), SvidIssued.class);
    }

    private interface Call {
        Object run() throws Exception;
    }

    private static void assertRefused(Call call, String reason) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(ProtocolException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.NOT_TRUSTED);
            assertThat(e.getMessage()).contains(reason);
        });
    }

    private static CliRun cli(String... args) {
        return CliRun.run(ApplianceCli::commandLine, args);
    }
}
