package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;
import static dev.outpost.appliance.site.SiteHarness.hasIdentity;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.appliance.ca.CaException;
import dev.outpost.appliance.ca.CaKeys;
import dev.outpost.appliance.cli.ApplianceCli;
import dev.outpost.appliance.store.SiteArchive;
import dev.outpost.testkit.CliRun;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.pcr.Pcrs;
import dev.outpost.tpm.seal.UnsealException;

/**
 * The site CA key sealed to the gateway's TPM (issue 17, ca.keyProtection: tpm), on real swtpms: a standalone site
 * makes its CA key sealed, issues, restarts (unsealing it), and its data directory copied to a gateway with another TPM
 * refuses to start naming why; with ca.sealPcrs it refuses after a PCR in the policy changes; a plain key is sealed
 * when the site switches to tpm. No plain CA key is ever written under the data directory.
 */
@ExtendWith(SwtpmExtension.class)
class SealedCaSiteTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void sealedCaStartsIssuesRestartsAndDoesNotStartOnAnotherTpm(Swtpm gateway, Swtpm device, Swtpm other,
            @TempDir Path dir) throws Exception {
        Path data = dir.resolve("site/data");
        PrivateKey caKey;
        try (SiteHarness site = sealedSite(dir.resolve("site"), gateway, null)) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            Path caDir = data.resolve("ca");
            assertThat(caDir.resolve("ca.key")).doesNotExist();
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(caDir.resolve("ca.key.sealed"))))
                    .isEqualTo("rw-------");
            JsonNode show = JSON.readTree(cli("ca", "show", "--json", "--socket", site.adminSocket().toString()).out());
            assertThat(show.path("keyProtection").asText())
                    .isEqualTo("tpm (sealed to " + gateway.uri() + ", no PCR policy)");
            assertThat(cli("ca", "show", "--socket", site.adminSocket().toString()).out())
                    .contains("keyProtection: tpm (sealed to " + gateway.uri());

            AgentConfig config = site.agentConfig(device, "agent", "p384", "rsa");
            SiteHarness.Running agent = site.startAgent(config);
            await("enrolled", Duration.ofSeconds(60), () -> hasIdentity(config));
            await("connected", Duration.ofSeconds(60), () -> "connected".equals(agent.daemon().status()));

            // A restart unseals the same key: the device reconnects with the SVID it holds.
            byte[] caBefore = Files.readAllBytes(site.caPem());
            site.stopAppliance();
            site.startAppliance();
            assertThat(Files.readAllBytes(site.caPem())).isEqualTo(caBefore);
            await("reconnected", Duration.ofSeconds(60), () -> "connected".equals(agent.daemon().status()));

            // A backup carries the sealed key as it is, never a plain one.
            Path backup = dir.resolve("site.tar.gz");
            CliRun b = cli("backup", "--socket", site.adminSocket().toString(), "--out", backup.toString());
            assertThat(b.exitCode()).as(b.err()).isZero();
            SiteHarness.stopAgent(agent);
            site.stopAppliance();
            Path staging = Files.createDirectory(dir.resolve("staging"));
            SiteArchive.extract(backup, staging);
            assertThat(staging.resolve("ca/ca.key.sealed")).exists();
            assertThat(staging.resolve("ca/ca.key")).doesNotExist();

            caKey = CaKeys.tpm(gateway.uri(), null).read(caDir, "ca.key");
            assertNoPlainKey(data, caKey);
            assertNoPlainKey(staging, caKey);
            assertNoPlainKey(backup.getParent(), caKey);

            // The backup restores onto this gateway (same TPM): the sealed key unseals, the same CA serves.
            Path restored = dir.resolve("restored");
            CliRun r = cli("restore", "--from", backup.toString(), "--data-dir", restored.resolve("data").toString());
            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(r.out()).contains("sealed to a TPM");
            try (SiteHarness back = sealedSite(restored, gateway, null)) {
                back.startAppliance();
                assertThat(Files.readAllBytes(back.caPem())).isEqualTo(caBefore);
            }
        }

        // The same data directory on a gateway with another TPM: refused, with the reason and the way out.
        Path copy = dir.resolve("copy");
        copyTree(data, copy.resolve("data"));
        try (SiteHarness stolen = sealedSite(copy, other, null)) {
            assertThatThrownBy(stolen::startAppliance)
                    .isInstanceOf(CaKeys.Unsealable.class)
                    .satisfies(e -> assertThat(((CaKeys.Unsealable) e).reason()).isEqualTo(UnsealException.Reason.OTHER_TPM))
                    .hasMessageContaining("copied from another gateway")
                    .hasMessageContaining("ca csr");
        }
    }

    @Test
    void withAPcrPolicyTheKeyUnsealsOnlyWhileThePcrsHoldTheirValues(Swtpm gateway, @TempDir Path dir) throws Exception {
        try (SiteHarness site = sealedSite(dir, gateway, "sha256:0,7")) {
            site.startAppliance();
            JsonNode show = JSON.readTree(cli("ca", "show", "--json", "--socket", site.adminSocket().toString()).out());
            assertThat(show.path("keyProtection").asText()).isEqualTo("tpm (sealed to " + gateway.uri() + ", PCRs sha256:0,7)");
            site.stopAppliance();
            site.startAppliance();
            site.stopAppliance();
            try (Tpm2 tpm = Tpm2.open(gateway.uri())) {
                Pcrs.extend(tpm, 7, Map.of(HashAlg.SHA256, new byte[32]));
            }
            assertThatThrownBy(site::startAppliance)
                    .isInstanceOf(CaKeys.Unsealable.class)
                    .satisfies(e -> assertThat(((CaKeys.Unsealable) e).reason()).isEqualTo(UnsealException.Reason.PCRS_CHANGED))
                    .hasMessageContaining("booted something other");
        }
    }

    @Test
    void switchingFromFileToTpmSealsThePlainKeyAndDeletesIt(Swtpm gateway, @TempDir Path dir) throws Exception {
        Path caDir = dir.resolve("data/ca");
        try (SiteHarness site = new SiteHarness(dir, "either", Duration.ofHours(1))) {
            site.startAppliance();
            assertThat(caDir.resolve("ca.key")).exists();
            JsonNode show = JSON.readTree(cli("ca", "show", "--json", "--socket", site.adminSocket().toString()).out());
            assertThat(show.path("keyProtection").asText()).isEqualTo("file (no TPM)");
            byte[] plain = CaKeys.file().read(caDir, "ca.key").getEncoded();
            byte[] cert = Files.readAllBytes(site.caPem());
            site.stopAppliance();

            site.caConfig("  keyProtection: tpm").extraConfig("upstream:\n  tpm: " + gateway.uri());
            site.startAppliance();
            assertThat(caDir.resolve("ca.key")).doesNotExist();
            assertThat(Files.readAllBytes(site.caPem())).isEqualTo(cert);
            assertThat(CaKeys.tpm(gateway.uri(), null).read(caDir, "ca.key").getEncoded()).isEqualTo(plain);
            site.stopAppliance();

            // Back to file: the sealed key cannot be used without the TPM; refused, naming the setting.
            site.caConfig("  keyProtection: file").extraConfig("");
            assertThatThrownBy(site::startAppliance).isInstanceOf(CaException.class)
                    .hasMessageContaining("keyProtection: tpm");
        }
    }

    static SiteHarness sealedSite(Path dir, Swtpm gateway, String pcrs) throws Exception {
        return new SiteHarness(dir, "either", Duration.ofHours(1))
                .caConfig("  keyProtection: tpm", pcrs == null ? "" : "  sealPcrs: " + pcrs)
                .extraConfig("upstream:\n  tpm: " + gateway.uri());
    }

    /** No file under {@code root} holds the key: not its PKCS#8 bytes, not their base64, no file named like a key. */
    static void assertNoPlainKey(Path root, PrivateKey key) throws Exception {
        byte[] der = key.getEncoded();
        String b64 = Base64.getEncoder().encodeToString(der).substring(0, 40);
        List<Path> files;
        try (Stream<Path> s = Files.walk(root)) {
            files = s.filter(Files::isRegularFile).toList();
        }
        assertThat(files).isNotEmpty();
        for (Path f : files) {
            String name = f.getFileName().toString();
            assertThat(name).as(f.toString()).isNotIn("ca.key", "next.key");
            assertThat(name).as(f.toString()).doesNotEndWith(".key.tmp");
            byte[] content = Files.readAllBytes(f);
            assertThat(indexOf(content, der)).as(f + " holds the CA key").isEqualTo(-1);
            assertThat(indexOf(content, b64.getBytes(java.nio.charset.StandardCharsets.US_ASCII)))
                    .as(f + " holds the CA key in PEM").isEqualTo(-1);
        }
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
        return -1;
    }

    private static void copyTree(Path from, Path to) throws Exception {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else if (!p.getFileName().toString().endsWith(".lock.db")) {
                    Files.copy(p, t, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    private static CliRun cli(String... args) {
        return CliRun.run(ApplianceCli::commandLine, args);
    }
}
