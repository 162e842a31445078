package dev.outpost.appliance.site;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.agent.enroll.DeviceTpm;
import dev.outpost.agent.enroll.NodeKeys;
import dev.outpost.agent.mqtt.ApplianceClient;
import dev.outpost.agent.state.AgentState;
import dev.outpost.agent.tls.TlsContexts;
import dev.outpost.appliance.cli.ApplianceCli;
import dev.outpost.mqtt.protocol.ActivateRequest;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.EnrollChallenge;
import dev.outpost.mqtt.protocol.EnrollRequest;
import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.ProtocolException;
import dev.outpost.mqtt.protocol.Response;
import dev.outpost.mqtt.protocol.SvidIssued;
import dev.outpost.mqtt.protocol.Topics;
import dev.outpost.testkit.CliRun;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.tpm.credential.CredentialBlob;
import dev.outpost.tpm.keys.AkTemplate;
import dev.outpost.tpm.keys.AttestationKey;
import dev.outpost.tpm.keys.EkTemplate;
import dev.outpost.tpm.keys.Endorsement;
import dev.outpost.tpm.wire.ObjectAttributes;
import dev.outpost.tpm.wire.PublicAreas;
import dev.outpost.tpm.wire.TpmPublic;
import dev.outpost.tpm.wire.TpmWriter;

/** Every way enrollment can be refused, each with the code and reason the device and the audit log see. */
@ExtendWith(SwtpmExtension.class)
class EnrollmentRejectionTest {

    @Test
    void refusalsNameTheirReason(Swtpm swtpm, @TempDir Path dir) throws Exception {
        try (SiteHarness site = new SiteHarness(dir, "either", Duration.ofHours(1))) {
            site.startAppliance();
            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "rsa");
            DeviceTpm tpm = new DeviceTpm(config.tpm(), EkTemplate.RSA_2048, AkTemplate.RSA_2048, config.stateDir());
            DeviceTpm.Endorsed ek = tpm.endorsement();
            AttestationKey ak = tpm.attestationKey();

            try (ApplianceClient c = connect(site, ek.deviceId())) {
                // Neither on the allow-list nor chained to a trusted manufacturer (none configured).
                assertRefused(() -> enroll(c, ek, ek.ekCertificate(), ak.pub().encodedSized()), ErrorCode.NOT_TRUSTED,
                        "not on the allow-list");

                CliRun allow = CliRun.run(ApplianceCli::commandLine, "device", "allow", ek.deviceId(), "--socket",
                        site.adminSocket().toString());
                assertThat(allow.exitCode()).as(allow.err()).isZero();

                // An AK that is not a restricted, fixedTPM key cannot vouch for quotes.
                byte[] weakAk = softwareAk(ObjectAttributes.SIGN | ObjectAttributes.USER_WITH_AUTH);
                assertRefused(() -> enroll(c, ek, ek.ekCertificate(), weakAk), ErrorCode.NOT_TRUSTED, "AK lacks");

                // A wrong activation answer burns the pending activation ...
                enroll(c, ek, ek.ekCertificate(), ak.pub().encodedSized());
                NodeKeys nodeKeys = new NodeKeys(tpm, false);
                KeyPair nodeKey = nodeKeys.newKey();
                byte[] csr = NodeKeys.csr(nodeKey, ek.deviceId());
                assertRefused(() -> c.request(Kind.ACTIVATE, new ActivateRequest(1, Codec.base64(new byte[32]),
                        Codec.base64(csr)), SvidIssued.class), ErrorCode.ACTIVATION_FAILED, "wrong activation secret");
                assertRefused(() -> c.request(Kind.ACTIVATE, new ActivateRequest(1, Codec.base64(new byte[32]),
                        Codec.base64(csr)), SvidIssued.class), ErrorCode.ACTIVATION_FAILED, "no pending activation");

                // ... and the right one works once; replayed, it is refused.
                EnrollChallenge ch = enroll(c, ek, ek.ekCertificate(), ak.pub().encodedSized());
                byte[] secret = tpm.activate(ak, new CredentialBlob(Codec.base64(ch.credentialBlob(), "b", 1024),
                        Codec.base64(ch.encryptedSecret(), "s", 1024)));
                String[] proof = NodeKeys.fields(nodeKeys.certify(nodeKey, dev.outpost.tpm.HashAlg.SHA256.digest(secret)));
                ActivateRequest right = new ActivateRequest(1, Codec.base64(secret), Codec.base64(csr), proof[0], proof[1],
                        proof[2]);
                assertThat(c.request(Kind.ACTIVATE, right, SvidIssued.class).spiffeId()).endsWith(ek.deviceId());
                assertRefused(() -> c.request(Kind.ACTIVATE, right, SvidIssued.class), ErrorCode.ACTIVATION_FAILED,
                        "no pending activation");

                // The EK of another device cannot be enrolled under this device's topic.
                try (var other = new RawMqtt(site.appliance().mqttPort(), RawMqtt.ids().get(0), site.caPem())) {
                    Response r = other.send(other.topics().request(RawMqtt.ids().get(0), Kind.ENROLL),
                            new Codec().encode(new EnrollRequest(1, Codec.base64(ek.ekPublic()), null,
                                    Codec.base64(ak.pub().encodedSized()))));
                    assertThat(r.error()).isEqualTo(ErrorCode.FORBIDDEN);
                    // Nor may a client publish on another device's topics.
                    Response foreign = other.send(other.topics().request(ek.deviceId(), Kind.ENROLL),
                            "{\"v\":1}".getBytes(StandardCharsets.US_ASCII));
                    assertThat(foreign.error()).isEqualTo(ErrorCode.FORBIDDEN);
                    Response big = other.send(other.topics().request(RawMqtt.ids().get(0), Kind.ENROLL),
                            new byte[70_000]);
                    assertThat(big.error()).isEqualTo(ErrorCode.TOO_LARGE);
                    Response garbage = other.send(other.topics().request(RawMqtt.ids().get(0), Kind.ENROLL),
                            "\u0000\u00ff garbage".getBytes(StandardCharsets.ISO_8859_1));
                    assertThat(garbage.error()).isEqualTo(ErrorCode.BAD_REQUEST);
                }
            }
            CliRun audit = CliRun.run(ApplianceCli::commandLine, "device", "show", ek.deviceId(), "--json", "--socket",
                    site.adminSocket().toString());
            assertThat(audit.out()).contains("\"state\" : \"enrolled\"");
        }
    }

    @Test
    void expiredOrForeignEkCertificatesAreRefused(Swtpm swtpm, @TempDir Path dir) throws Exception {
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))) {
            KeyPair ca = ecKey();
            X509Certificate caCert = cert(ca, ca.getPublic(), "CN=Test TPM Vendor Root", Instant.now().minusSeconds(86400),
                    Instant.now().plusSeconds(86400 * 365), true);
            Files.writeString(dir.resolve("ek-ca/vendor.pem"), pem(caCert));
            site.startAppliance();
            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "rsa");
            DeviceTpm tpm = new DeviceTpm(config.tpm(), EkTemplate.RSA_2048, AkTemplate.RSA_2048, config.stateDir());
            DeviceTpm.Endorsed ek = tpm.endorsement();
            AttestationKey ak = tpm.attestationKey();
            PublicKey ekKey = TpmPublic.parseSized(ek.ekPublic()).publicKey();
            byte[] expired = cert(ca, ekKey, "CN=ek", Instant.now().minusSeconds(86400 * 30),
                    Instant.now().minusSeconds(86400), false).getEncoded();
            byte[] valid = cert(ca, ekKey, "CN=ek", Instant.now().minusSeconds(60),
                    Instant.now().plusSeconds(86400), false).getEncoded();
            try (ApplianceClient c = connect(site, ek.deviceId())) {
                assertRefused(() -> enroll(c, ek, expired, ak.pub().encodedSized()), ErrorCode.NOT_TRUSTED, "expired");
                // swtpm's own certificate chains to a CA this site does not trust.
                assertRefused(() -> enroll(c, ek, ek.ekCertificate(), ak.pub().encodedSized()), ErrorCode.NOT_TRUSTED,
                        "does not chain");
                assertRefused(() -> enroll(c, ek, null, ak.pub().encodedSized()), ErrorCode.NOT_TRUSTED,
                        "no EK certificate");
                assertThat(enroll(c, ek, valid, ak.pub().encodedSized()).expiresAt()).isGreaterThan(0);
            }
        }
    }

    private static ApplianceClient connect(SiteHarness site, String deviceId) throws Exception {
        ApplianceClient c = new ApplianceClient("127.0.0.1", site.appliance().mqttPort(), deviceId, new Topics(),
                new Codec(), Duration.ofSeconds(20));
        c.connect(TlsContexts.context(TlsContexts.trusting(AgentState.certificates(Files.readString(site.caPem()))), null));
        return c;
    }

    private static EnrollChallenge enroll(ApplianceClient c, DeviceTpm.Endorsed ek, byte[] cert, byte[] akPublic)
            throws Exception {
        return c.request(Kind.ENROLL, new EnrollRequest(1, Codec.base64(ek.ekPublic()), Codec.base64(cert),
                Codec.base64(akPublic)), EnrollChallenge.class);
    }

    private interface Call {
        Object run() throws Exception;
    }

    private static void assertRefused(Call call, ErrorCode code, String reason) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(ProtocolException.class, e -> {
            assertThat(e.code()).isEqualTo(code);
            assertThat(e.getMessage()).contains(reason);
        });
    }

    private static byte[] softwareAk(int attributes) throws Exception {
        return new TpmWriter().sized(PublicAreas.signingKey(ecKey().getPublic(), attributes)).toBytes();
    }

    private static KeyPair ecKey() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static X509Certificate cert(KeyPair issuer, PublicKey subject, String dn, Instant from, Instant to,
            boolean ca) throws Exception {
        var b = new JcaX509v3CertificateBuilder(new X500Name("CN=Test TPM Vendor Root"),
                BigInteger.valueOf(System.nanoTime()), Date.from(from), Date.from(to), new X500Name(dn), subject);
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
        return new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuer.getPrivate())));
    }

    private static String pem(X509Certificate c) throws Exception {
        return dev.outpost.tpm.keys.Pem.certificate(c);
    }

    static {
        // referenced for the compiler's benefit: Endorsement is the source of the swtpm EK used above
        Endorsement.class.getName();
    }
}
