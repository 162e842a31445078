package dev.outpost.appliance.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.appliance.ca.TrustBundle;
import dev.outpost.appliance.cli.ApplianceCli;
import dev.outpost.appliance.config.ApplianceConfig;
import dev.outpost.appliance.store.Database;
import dev.outpost.appliance.store.DeviceRecord;
import dev.outpost.appliance.store.DeviceStore;
import dev.outpost.appliance.store.SiteDirectory;
import dev.outpost.testkit.CliRun;

/**
 * A data directory that lost its database or its CA must not start as a new site in silence: devices would lose
 * their records or their trust in the appliance. It refuses, names what is missing and how to start over.
 */
class IncompleteSiteStartTest {
    private static final String DEVICE = "ab".repeat(32);

    @TempDir
    Path dir;

    private Path data() {
        return dir.resolve("data");
    }

    private ApplianceConfig config() throws Exception {
        Files.createDirectories(dir.resolve("allow"));
        Files.createDirectories(dir.resolve("ek-ca"));
        Path f = dir.resolve("appliance.yaml");
        Files.writeString(f, String.join("\n",
                "trustDomain: outpost.test",
                "site: test-site",
                "dataDir: " + data(),
                "runtimeDir: " + dir.resolve("run"),
                "mqtt:",
                "  host: 127.0.0.1",
                "  port: 0",
                "metrics:",
                "  host: 127.0.0.1",
                "  port: 0",
                "enrollment:",
                "  allowListDir: " + dir.resolve("allow"),
                "  ekCaDir: " + dir.resolve("ek-ca"),
                ""));
        return ApplianceConfig.load(f);
    }

    /** A site that ran and issued one device an SVID, then stopped. */
    private byte[] siteWithAnIssuedSvid() throws Exception {
        ApplianceApp.start(config()).stop();
        try (Database db = Database.open(data())) {
            DeviceStore devices = new DeviceStore(db);
            devices.upsertEnrolled(DeviceRecord.enrolled(DEVICE, new byte[] {1}, null, "L-2", new byte[] {2},
                    "spiffe://outpost.test/agent/tpm/" + DEVICE, Instant.now(), List.of()));
            devices.recordSvid(DEVICE, "0abc", "spiffe://outpost.test/agent/tpm/" + DEVICE, Instant.now(),
                    Instant.now().plusSeconds(3600));
        }
        return Files.readAllBytes(data().resolve("ca/ca.crt"));
    }

    @Test
    void aLostDatabaseIsNotReplacedByAnEmptyOne() throws Exception {
        byte[] ca = siteWithAnIssuedSvid();
        Files.delete(data().resolve("outpost.mv.db"));

        assertThatThrownBy(() -> ApplianceApp.start(config()))
                .isInstanceOf(SiteDirectory.IncompleteSite.class)
                .hasMessageContaining(data().resolve("outpost.mv.db") + " is missing")
                .hasMessageContaining("an empty database would forget every device")
                .hasMessageContaining("outpost-appliance restore --from FILE --data-dir " + data())
                .hasMessageContaining("outpost-appliance reset --data-dir " + data());
        assertThat(data().resolve("outpost.mv.db")).as("no empty database was made").doesNotExist();
        assertThat(Files.readAllBytes(data().resolve("ca/ca.crt"))).isEqualTo(ca);
    }

    @Test
    void lostCaFilesAreNotReplacedByANewCaOnceDevicesHoldIdentities() throws Exception {
        siteWithAnIssuedSvid();
        Files.delete(data().resolve("ca/ca.key"));
        Files.delete(data().resolve("ca/ca.crt"));

        assertThatThrownBy(() -> ApplianceApp.start(config()))
                .isInstanceOf(SiteDirectory.IncompleteSite.class)
                .hasMessageContaining(data().resolve("ca/ca.key") + " and " + data().resolve("ca/ca.crt") + " are missing")
                .hasMessageContaining("1 device(s) hold identities from the site CA")
                .hasMessageContaining("outpost-appliance reset --data-dir " + data());
        assertThat(data().resolve("ca/ca.key")).as("no new CA was made").doesNotExist();
        assertThat(data().resolve("ca/ca.crt")).doesNotExist();
    }

    @Test
    void aLostCertificateAloneIsRefusedToo() throws Exception {
        siteWithAnIssuedSvid();
        Files.delete(data().resolve("ca/ca.crt"));

        assertThatThrownBy(() -> ApplianceApp.start(config()))
                .isInstanceOf(SiteDirectory.IncompleteSite.class)
                .hasMessageContaining(data().resolve("ca/ca.crt") + " is missing");
    }

    @Test
    void aDirectoryThatLostDatabaseAndCaButKeptItsMarkerIsRefused() throws Exception {
        siteWithAnIssuedSvid();
        assertThat(data().resolve("outpost.site")).as("the marker a running site leaves").exists();
        Files.delete(data().resolve("outpost.mv.db"));
        Files.delete(data().resolve("ca/ca.key"));
        Files.delete(data().resolve("ca/ca.crt"));

        assertThatThrownBy(() -> ApplianceApp.start(config()))
                .isInstanceOf(SiteDirectory.IncompleteSite.class)
                .hasMessageContaining(data().resolve("outpost.mv.db") + " and " + data().resolve("ca/ca.key") + " and "
                        + data().resolve("ca/ca.crt") + " are missing");
        assertThat(data().resolve("ca/ca.key")).doesNotExist();
    }

    @Test
    void aCaProvisionedBeforeTheFirstStartIsTheSitesCa() throws Exception {
        // external broker mode: the broker's certificate comes from the site CA, so the CA exists first
        SiteCa ca = SiteCa.loadOrCreate(data().resolve("ca"), "outpost.test", "test-site", Duration.ofDays(365),
                Clock.systemUTC());
        ApplianceApp app = ApplianceApp.start(config());
        try {
            assertThat(Files.readString(data().resolve("ca/ca.crt"))).isEqualTo(TrustBundle.of(ca).pem());
        } finally {
            app.stop();
        }
    }

    @Test
    void aFirstStartThatDiedBeforeMakingTheCaStartsAgain() throws Exception {
        // H2 made the database, then the start stopped before the CA was written: no device trusts anything yet
        Database.open(data()).close();
        ApplianceApp app = ApplianceApp.start(config());
        app.stop();
        assertThat(data().resolve("ca/ca.key")).exists();
    }

    @Test
    void resetMovesTheRemainsAsideAndTheNextStartIsANewSite() throws Exception {
        byte[] oldCa = siteWithAnIssuedSvid();
        Files.delete(data().resolve("outpost.mv.db"));
        assertThatThrownBy(() -> ApplianceApp.start(config())).isInstanceOf(SiteDirectory.IncompleteSite.class);

        CliRun r = CliRun.run(ApplianceCli::commandLine, "reset", "--config", dir.resolve("appliance.yaml").toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("every device must enroll again");
        Path aside;
        try (Stream<Path> s = Files.list(data())) {
            aside = s.filter(p -> p.getFileName().toString().startsWith("discarded-")).findFirst().orElseThrow();
        }
        assertThat(Files.readAllBytes(aside.resolve("ca/ca.crt"))).as("the old CA is kept, not deleted").isEqualTo(oldCa);

        ApplianceApp app = ApplianceApp.start(config());
        try {
            assertThat(Files.readAllBytes(data().resolve("ca/ca.crt"))).isNotEqualTo(oldCa);
        } finally {
            app.stop();
        }
    }

    @Test
    void resetRefusesAWholeSiteWithoutForceAndARunningOneAlways() throws Exception {
        siteWithAnIssuedSvid();
        String yaml = dir.resolve("appliance.yaml").toString();
        CliRun whole = CliRun.run(ApplianceCli::commandLine, "reset", "--config", yaml);
        assertThat(whole.exitCode()).isEqualTo(2);
        assertThat(whole.err()).contains("is whole").contains("--force");
        assertThat(data().resolve("outpost.mv.db")).exists();

        ApplianceApp app = ApplianceApp.start(config());
        try {
            CliRun running = CliRun.run(ApplianceCli::commandLine, "reset", "--config", yaml, "--force");
            assertThat(running.exitCode()).isEqualTo(2);
            assertThat(running.err()).contains("in use: stop the appliance first");
            assertThat(data().resolve("outpost.mv.db")).exists();
        } finally {
            app.stop();
        }
    }
}
