package dev.outpost.appliance.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.appliance.app.ApplianceApp;
import dev.outpost.appliance.cli.ApplianceCli;
import dev.outpost.appliance.config.ApplianceConfig;
import dev.outpost.spiffe.PemIo;
import dev.outpost.testkit.CliRun;
import dev.outpost.testkit.ProcessRunner;
import dev.outpost.testkit.Tools;
import dev.outpost.tpm.keys.Pem;

/**
 * The air-gapped file flow before the first start, with openssl as the upstream CA: {@code ca csr} makes the key on
 * site, openssl signs, {@code ca install} checks and installs, and an SVID of the installed CA verifies with openssl
 * against the root alone. Every refusal leaves the CA directory as it was.
 */
class FileFlowTest {
    static final String TD = "corp.example";

    @TempDir
    Path dir;
    Path cfg;
    Path caDir;
    OpensslCa root;

    @BeforeEach
    void setUp() throws Exception {
        cfg = dir.resolve("appliance.yaml");
        Files.writeString(cfg, "trustDomain: " + TD + "\nsite: plant\ndataDir: " + dir.resolve("data") + "\nruntimeDir: "
                + dir.resolve("run") + "\nca:\n  mode: nested\n");
        caDir = dir.resolve("data/ca");
        root = OpensslCa.root(dir.resolve("upstream"), "Corp Root");
    }

    @Test
    void csrSignedByOpensslInstallsAndIssuesSvidsThatVerifyAgainstTheRootAlone() throws Exception {
        Path csr = dir.resolve("site.csr");
        CliRun made = cli("ca", "csr", "--config", cfg.toString(), "--out", csr.toString());
        assertThat(made.exitCode()).as(made.err()).isZero();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(caDir.resolve(CaFiles.NEXT_KEY))))
                .isEqualTo("rw-------");
        PKCS10CertificationRequest req = new PKCS10CertificationRequest(Pem.decode(Files.readString(csr), "CERTIFICATE REQUEST"));
        assertThat(req.getSubject().toString()).isEqualTo("O=Outpost,CN=Outpost site CA plant");
        Extensions ext = Extensions.getInstance(req.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)[0]
                .getAttrValues().getObjectAt(0));
        assertThat(GeneralNames.fromExtensions(ext, Extension.subjectAlternativeName).getNames()[0].getName().toString())
                .isEqualTo("spiffe://" + TD);
        // Nothing else is asked for: central refuses a CSR that requests CA:true or a key usage (the signer sets them).
        assertThat(ext.getExtensionOIDs()).containsExactly(Extension.subjectAlternativeName);

        Path signed = root.sign(csr, OpensslCa.siteCaExtensions(TD), 90, dir.resolve("site.pem"));
        CliRun installed = cli("ca", "install", "--config", cfg.toString(), "--cert", signed.toString(),
                "--chain", root.pem().toString());
        assertThat(installed.exitCode()).as(installed.err()).isZero();
        assertThat(installed.out()).contains("is the site CA");

        List<X509Certificate> caCrt = PemIo.certificates(Files.readString(caDir.resolve("ca.crt")), 8);
        assertThat(caCrt).hasSize(1);
        assertThat(PemIo.certificates(Files.readString(caDir.resolve("upstream-roots.pem")), 8)).hasSize(1);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(caDir.resolve("ca.key")))).isEqualTo("rw-------");
        assertThat(caDir.resolve(CaFiles.NEXT_KEY)).doesNotExist();

        SiteCa ca = SiteCa.load(caDir, TD, Clock.systemUTC());
        assertThat(ca.trustAnchors()).hasSize(1);
        assertThat(ca.trustAnchors().get(0).getSubjectX500Principal().getName()).contains("Corp Root");
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        IssuedSvid svid = ca.issueNodeSvid(g.generateKeyPair().getPublic(), "ab".repeat(32), Duration.ofHours(1));
        assertThat(svid.chain()).hasSize(2);
        Path leaf = Files.writeString(dir.resolve("leaf.pem"), Pem.certificate(svid.certificate()));
        Path siteCa = Files.writeString(dir.resolve("siteca.pem"), PemIo.encode(ca.intermediates()));
        ProcessRunner.Result v = OpensslCa.verify(root.pem(), siteCa, leaf);
        assertThat(v.stdout()).as(v.toString()).contains(": OK");
        assertThat(OpensslCa.verify(root.pem(), null, leaf).exitCode()).as("the leaf alone does not reach the root").isNotZero();
    }

    /** The same flow with ca.keyProtection: tpm: the pending key and then the active one exist only sealed. */
    @Test
    @org.junit.jupiter.api.extension.ExtendWith(dev.outpost.testkit.SwtpmExtension.class)
    void withKeyProtectionTpmThePendingAndInstalledKeysAreSealed(dev.outpost.testkit.Swtpm gateway) throws Exception {
        Files.writeString(cfg, Files.readString(cfg) + "  keyProtection: tpm\nupstream:\n  tpm: " + gateway.uri() + "\n");
        Path csr = dir.resolve("site.csr");
        CliRun made = cli("ca", "csr", "--config", cfg.toString(), "--out", csr.toString());
        assertThat(made.exitCode()).as(made.err()).isZero();
        assertThat(caDir.resolve(CaFiles.NEXT_KEY)).doesNotExist();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(caDir.resolve("next.key.sealed"))))
                .isEqualTo("rw-------");
        // Run again: the same sealed key, unsealed to sign a new request.
        Path again = dir.resolve("again.csr");
        assertThat(cli("ca", "csr", "--config", cfg.toString(), "--out", again.toString()).exitCode()).isZero();
        assertThat(new PKCS10CertificationRequest(Pem.decode(Files.readString(again), "CERTIFICATE REQUEST"))
                .getSubjectPublicKeyInfo()).isEqualTo(new PKCS10CertificationRequest(
                        Pem.decode(Files.readString(csr), "CERTIFICATE REQUEST")).getSubjectPublicKeyInfo());

        Path signed = root.sign(csr, OpensslCa.siteCaExtensions(TD), 90, dir.resolve("site.pem"));
        CliRun installed = cli("ca", "install", "--config", cfg.toString(), "--cert", signed.toString(),
                "--chain", root.pem().toString());
        assertThat(installed.exitCode()).as(installed.err()).isZero();
        try (Stream<Path> files = Files.list(caDir)) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted().toList())
                    .containsExactly("ca.crt", "ca.key.sealed", "upstream-roots.pem");
        }
        CaKeys keys = CaKeys.of(ApplianceConfig.load(cfg));
        assertThat(keys.sealed()).isTrue();
        SiteCa ca = SiteCa.load(caDir, keys, TD, Clock.systemUTC());
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        IssuedSvid svid = ca.issueNodeSvid(g.generateKeyPair().getPublic(), "ab".repeat(32), Duration.ofHours(1));
        Path leaf = Files.writeString(dir.resolve("leaf.pem"), Pem.certificate(svid.certificate()));
        Path siteCa = Files.writeString(dir.resolve("siteca.pem"), PemIo.encode(ca.intermediates()));
        assertThat(OpensslCa.verify(root.pem(), siteCa, leaf).stdout()).contains(": OK");
        // Without the TPM setting the sealed key is refused by name, not mistaken for a missing one.
        assertThatThrownBy(() -> SiteCa.load(caDir, TD, Clock.systemUTC())).isInstanceOf(CaException.class)
                .hasMessageContaining("ca.keyProtection: tpm");
    }

    @Test
    void installRefusalsChangeNothing() throws Exception {
        Path csr = dir.resolve("site.csr");
        assertThat(cli("ca", "csr", "--config", cfg.toString(), "--out", csr.toString()).exitCode()).isZero();
        Map<String, String> before = snapshot();

        Path otherCsr = dir.resolve("other.csr");
        ProcessRunner.run(List.of(Tools.require("openssl").toString(), "req", "-new", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout", dir.resolve("other.key").toString(), "-out",
                otherCsr.toString(), "-subj", "/CN=someone else"), dir, Map.of(), 60).assertSuccess();
        refused(root.sign(otherCsr, OpensslCa.siteCaExtensions(TD), 90, dir.resolve("a.pem")), root.pem(),
                "not for this site's pending CA key");
        refused(root.sign(csr, "basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\n"
                + "subjectAltName=URI:spiffe://" + TD + "\n", 90, dir.resolve("b.pem")), root.pem(), "not a CA");
        refused(root.sign(csr, OpensslCa.siteCaExtensions("other.example"), 90, dir.resolve("c.pem")), root.pem(),
                "trust domain 'other.example'");
        OpensslCa stranger = OpensslCa.root(dir.resolve("stranger"), "Stranger Root");
        refused(root.sign(csr, OpensslCa.siteCaExtensions(TD), 90, dir.resolve("d.pem")), stranger.pem(),
                "does not verify");
        refused(root.sign(csr, "basicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,digitalSignature\n"
                + "subjectAltName=URI:spiffe://" + TD + "\n", 90, dir.resolve("e.pem")), root.pem(), "keyCertSign");
        assertThat(snapshot()).isEqualTo(before);

        // Expired: the same certificate judged by a clock 100 days on.
        Path good = root.sign(csr, OpensslCa.siteCaExtensions(TD), 90, dir.resolve("f.pem"));
        CaInstaller later = new CaInstaller(new CaFiles(caDir), TD, "plant",
                Clock.offset(Clock.systemUTC(), Duration.ofDays(100)));
        assertThatThrownBy(() -> later.install(Files.readString(good), Files.readString(root.pem()), false))
                .isInstanceOf(CaException.class).hasMessageContaining("expired");
        assertThat(snapshot()).isEqualTo(before);

        assertThat(cli("ca", "install", "--config", cfg.toString(), "--cert", good.toString(), "--chain",
                root.pem().toString()).exitCode()).isZero();
    }

    @Test
    void nestedSiteWithoutCaAndWithoutLinkRefusesToStartNamingTheCommands() {
        ApplianceConfig c = ApplianceConfig.load(cfg);
        assertThatThrownBy(() -> ApplianceApp.start(c))
                .isInstanceOf(CaException.class)
                .hasMessageContaining("outpost-appliance ca csr")
                .hasMessageContaining("outpost-appliance ca install");
    }

    @Test
    void aNestedSiteThatLostItsCaIsToldDevicesCanResume() throws Exception {
        // The site ran (marker written at its first start) and the CA directory is gone.
        Files.createDirectories(dir.resolve("data"));
        Files.writeString(dir.resolve("data").resolve(dev.outpost.appliance.store.SiteDirectory.MARKER), "trustDomain=x\n");
        ApplianceConfig c = ApplianceConfig.load(cfg);
        assertThatThrownBy(() -> ApplianceApp.start(c))
                .isInstanceOf(CaException.class)
                .hasMessageContaining("ca csr")
                .hasMessageContaining("resume without enrolling again");
    }

    private void refused(Path cert, Path chain, String why) {
        CliRun r = cli("ca", "install", "--config", cfg.toString(), "--cert", cert.toString(), "--chain", chain.toString());
        assertThat(r.exitCode()).as(r.out()).isEqualTo(2);
        assertThat(r.err()).contains(why);
    }

    private Map<String, String> snapshot() throws Exception {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> files = Files.list(caDir)) {
            for (Path f : files.toList()) {
                m.put(f.getFileName().toString(), java.util.HexFormat.of().formatHex(Files.readAllBytes(f)));
            }
        }
        return m;
    }

    private static CliRun cli(String... args) {
        return CliRun.run(ApplianceCli::commandLine, args);
    }
}
