package dev.outpost.appliance.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.tpm.keys.Pem;
import io.spiffe.bundle.x509bundle.X509Bundle;
import io.spiffe.spiffeid.TrustDomain;
import io.spiffe.svid.x509svid.X509Svid;
import io.spiffe.svid.x509svid.X509SvidValidator;

class SiteCaTest {
    static final String TD = "site1.outpost.test";
    static final String DEVICE = "ab".repeat(32);

    @TempDir
    Path dir;

    static KeyPair ecKey() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    SiteCa newCa(Path caDir) {
        return SiteCa.loadOrCreate(caDir, TD, "alpha", Duration.ofDays(365), Clock.systemUTC());
    }

    @Test
    void createsRootWithSpiffeCaExtensionsAndKeyFile0600() throws Exception {
        SiteCa ca = newCa(dir);
        X509Certificate root = ca.certificate();
        assertThat(ca.chain()).containsExactly(root);
        assertThat(ca.trustAnchors()).containsExactly(root);
        assertThat(root.getBasicConstraints()).isGreaterThanOrEqualTo(0);
        assertThat(root.getCriticalExtensionOIDs()).contains("2.5.29.19", "2.5.29.15");
        boolean[] ku = root.getKeyUsage();
        assertThat(ku[5]).as("keyCertSign").isTrue();
        assertThat(ku[6]).as("cRLSign").isTrue();
        assertThat(ku[0]).as("digitalSignature").isFalse();
        assertThat(root.getSubjectAlternativeNames()).containsExactly(List.of(6, "spiffe://" + TD));
        assertThat(root.getSubjectX500Principal().getName()).isEqualTo("CN=Outpost site CA alpha,O=Outpost");
        assertThat(root.getExtensionValue("2.5.29.14")).isNotNull();
        assertThat(Files.getPosixFilePermissions(dir.resolve("ca.key")))
                .isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.readString(dir.resolve("ca.key"))).startsWith("-----BEGIN PRIVATE KEY-----");
        try (var s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("ca.key", "ca.crt");
        }
    }

    @Test
    void reloadsTheSameCa() throws Exception {
        SiteCa first = newCa(dir);
        SiteCa second = newCa(dir);
        assertThat(second.certificate()).isEqualTo(first.certificate());
        // the reloaded key signs what the first certificate verifies
        IssuedSvid svid = second.issueNodeSvid(ecKey().getPublic(), DEVICE, Duration.ofHours(1));
        svid.certificate().verify(first.certificate().getPublicKey());
    }

    @Test
    void refusesAKeyFileOthersCanRead() {
        newCa(dir);
        assertThatThrownBy(() -> {
            Files.setPosixFilePermissions(dir.resolve("ca.key"), PosixFilePermissions.fromString("rw-r--r--"));
            newCa(dir);
        }).isInstanceOf(CaException.class).hasMessageContaining("ca.key has mode rw-r--r--").hasMessageContaining("group/others");
    }

    @Test
    void refusesAWrongTrustDomain() {
        newCa(dir);
        assertThatThrownBy(() -> SiteCa.loadOrCreate(dir, "other.test", "alpha", Duration.ofDays(1), Clock.systemUTC()))
                .isInstanceOf(CaException.class)
                .hasMessageContaining("trust domain 'site1.outpost.test' but the configuration says 'other.test'");
    }

    @Test
    void refusesAKeyThatIsNotTheCertificatesKey() throws Exception {
        newCa(dir);
        Path other = dir.resolve("other");
        newCa(other);
        Files.copy(other.resolve("ca.key"), dir.resolve("ca.key"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> newCa(dir)).isInstanceOf(CaException.class).hasMessageContaining("is not the key of the certificate");
    }

    @Test
    void refusesALoneKeyOrLoneCertificate() throws Exception {
        newCa(dir);
        Files.delete(dir.resolve("ca.crt"));
        assertThatThrownBy(() -> newCa(dir)).isInstanceOf(CaException.class).hasMessageContaining("ca.crt does not");
        Path d2 = dir.resolve("d2");
        newCa(d2);
        Files.delete(d2.resolve("ca.key"));
        assertThatThrownBy(() -> newCa(d2)).isInstanceOf(CaException.class).hasMessageContaining("ca.key does not");
    }

    @Test
    void nodeSvidFollowsTheX509SvidStandard() throws Exception {
        SiteCa ca = newCa(dir);
        KeyPair node = ecKey();
        IssuedSvid svid = ca.issueNodeSvid(node.getPublic(), DEVICE, Duration.ofHours(1));
        X509Certificate leaf = svid.certificate();
        assertThat(svid.chain()).containsExactly(leaf);
        assertThat(svid.spiffeId().toString()).isEqualTo("spiffe://" + TD + "/agent/tpm/" + DEVICE);
        assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(6, svid.spiffeId().toString()));
        assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
        assertThat(leaf.getCriticalExtensionOIDs()).containsExactlyInAnyOrder("2.5.29.19", "2.5.29.15");
        assertThat(leaf.getKeyUsage()).containsExactly(true, false, false, false, false, false, false, false, false);
        assertThat(leaf.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
        assertThat(leaf.getExtensionValue("2.5.29.35")).isNotNull();
        assertThat(leaf.getExtensionValue("2.5.29.14")).isNotNull();
        assertThat(leaf.getSubjectX500Principal().getName()).isEqualTo("CN=" + DEVICE + ",O=Outpost");
        assertThat(leaf.getSigAlgName()).isEqualTo("SHA256withECDSA");
        assertThat(leaf.getSerialNumber()).isEqualTo(svid.serial()).isPositive();
        assertThat(svid.serial().bitLength()).isLessThanOrEqualTo(128);
        assertThat(leaf.getNotBefore().toInstant()).isEqualTo(svid.notBefore());
        assertThat(leaf.getNotAfter().toInstant()).isEqualTo(svid.notAfter());
        assertThat(Duration.between(svid.notBefore(), svid.notAfter())).isBetween(Duration.ofMinutes(60), Duration.ofMinutes(61));
        assertThat(Instant.now().minusSeconds(25)).isAfter(svid.notBefore());

        // java-spiffe: the SVID parses with its key and verifies against the bundle
        byte[] keyPem = Pem.encode("PRIVATE KEY", node.getPrivate().getEncoded()).getBytes(StandardCharsets.US_ASCII);
        X509Svid parsed = X509Svid.parse(svid.chainPem().getBytes(StandardCharsets.US_ASCII), keyPem);
        assertThat(parsed.getSpiffeId().toString()).isEqualTo(svid.spiffeId().toString());
        X509Bundle bundle = X509Bundle.parse(TrustDomain.parse(TD),
                TrustBundle.of(ca).pem().getBytes(StandardCharsets.US_ASCII));
        X509SvidValidator.verifyChain(parsed.getChain(), bundle);
        X509Svid raw = X509Svid.parseRaw(leaf.getEncoded(), node.getPrivate().getEncoded());
        assertThat(raw.getLeaf()).isEqualTo(leaf);
    }

    @Test
    void svidFromAnotherCaDoesNotVerifyWithJavaSpiffe() throws Exception {
        SiteCa ca = newCa(dir);
        SiteCa other = newCa(dir.resolve("other"));
        IssuedSvid foreign = other.issueNodeSvid(ecKey().getPublic(), DEVICE, Duration.ofHours(1));
        X509Bundle bundle = new X509Bundle(TrustDomain.parse(TD), Set.of(ca.certificate()));
        assertThatThrownBy(() -> X509SvidValidator.verifyChain(foreign.chain(), bundle))
                .isInstanceOf(java.security.cert.CertificateException.class);
    }

    @Test
    void serialsAreDistinct() throws Exception {
        SiteCa ca = newCa(dir);
        KeyPair node = ecKey();
        Set<BigInteger> serials = new java.util.HashSet<>();
        for (int i = 0; i < 50; i++) {
            serials.add(ca.issueNodeSvid(node.getPublic(), DEVICE, Duration.ofMinutes(5)).serial());
        }
        assertThat(serials).hasSize(50);
    }

    @Test
    void ttlIsCappedByTheCaNotAfter() throws Exception {
        Clock clock = Clock.fixed(Instant.parse("2030-01-01T00:00:00Z"), ZoneOffset.UTC);
        SiteCa ca = SiteCa.loadOrCreate(dir, TD, "alpha", Duration.ofHours(2), clock);
        IssuedSvid svid = ca.issueNodeSvid(ecKey().getPublic(), DEVICE, Duration.ofDays(30));
        assertThat(svid.notAfter()).isEqualTo(ca.notAfter()).isEqualTo(Instant.parse("2030-01-01T02:00:00Z"));
        assertThat(svid.notBefore()).isEqualTo(Instant.parse("2029-12-31T23:59:30Z"));
    }

    @Test
    void refusesBadDeviceIdsAndWeakKeys() throws Exception {
        SiteCa ca = newCa(dir);
        KeyPair node = ecKey();
        assertThatThrownBy(() -> ca.issueNodeSvid(node.getPublic(), DEVICE.toUpperCase(), Duration.ofHours(1)))
                .hasMessageContaining("64 lowercase hex");
        assertThatThrownBy(() -> ca.issueNodeSvid(node.getPublic(), "ab", Duration.ofHours(1)))
                .hasMessageContaining("64 lowercase hex");
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(1024);
        assertThatThrownBy(() -> ca.issueNodeSvid(rsa.generateKeyPair().getPublic(), DEVICE, Duration.ofHours(1)))
                .hasMessageContaining("RSA key of 1024 bits is too weak");
    }

    @Test
    void opensslVerifiesOurSvidsAndRejectsForeignOnes() throws Exception {
        SiteCa ca = newCa(dir);
        SiteCa other = newCa(dir.resolve("other"));
        Path caPem = dir.resolve("bundle.pem");
        Files.writeString(caPem, TrustBundle.of(ca).pem());
        Path svidPem = dir.resolve("svid.pem");
        Files.writeString(svidPem, ca.issueNodeSvid(ecKey().getPublic(), DEVICE, Duration.ofHours(1)).chainPem());
        Path foreignPem = dir.resolve("foreign.pem");
        Files.writeString(foreignPem, other.issueNodeSvid(ecKey().getPublic(), DEVICE, Duration.ofHours(1)).chainPem());

        Result ok = run("openssl", "verify", "-CAfile", caPem.toString(), svidPem.toString());
        assertThat(ok.code).as(ok.out).isZero();
        assertThat(ok.out).contains(": OK");
        Result bad = run("openssl", "verify", "-CAfile", caPem.toString(), foreignPem.toString());
        assertThat(bad.code).as(bad.out).isNotZero();

        Result text = run("openssl", "x509", "-noout", "-text", "-in", svidPem.toString());
        assertThat(text.code).isZero();
        assertThat(text.out)
                .contains("URI:spiffe://" + TD + "/agent/tpm/" + DEVICE)
                .containsPattern("X509v3 Key Usage: critical\\s+Digital Signature\\s")
                .containsPattern("X509v3 Extended Key Usage:\\s+TLS Web Server Authentication, TLS Web Client Authentication")
                .containsPattern("X509v3 Basic Constraints: critical\\s+CA:FALSE")
                .contains("Subject: O = Outpost, CN = " + DEVICE)
                .contains("ecdsa-with-SHA256");
        Result caText = run("openssl", "x509", "-noout", "-text", "-in", caPem.toString());
        assertThat(caText.out).containsPattern("X509v3 Basic Constraints: critical\\s+CA:TRUE")
                .containsPattern("X509v3 Key Usage: critical\\s+Certificate Sign, CRL Sign")
                .contains("URI:spiffe://" + TD);
    }

    record Result(int code, String out) {
    }

    static Result run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(new ArrayList<>(List.of(cmd))).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), out);
    }
}
