package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.appliance.admin.AdminClient;
import dev.outpost.appliance.cli.ApplianceCli;
import dev.outpost.sim.BootProfile;
import dev.outpost.sim.GoodPolicies;
import dev.outpost.sim.SimulatedKernel;
import dev.outpost.testkit.CliRun;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;

/**
 * The gateway's disk dies: the operator restores last night's online backup on a fresh data directory and every
 * device comes back trusted with the identity it holds, none enrolling again.
 */
@ExtendWith(SwtpmExtension.class)
class BackupRestoreSiteTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * An operator puts an older copy of the database file back by hand (no {@code restore}): the appliance sees at
     * start that the database is behind the outbox it had written and marks it restored, as {@code restore} would,
     * so central reconciles the seqs it reuses (OutboxCentralSiteTest covers that exchange). A plain restart, and
     * a restart after the copy was taken and nothing more was written, mark nothing.
     */
    @Test
    void aDatabaseCopiedBackByHandIsTreatedAsRestored(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("data");
        Path copy = dir.resolve("copy.mv.db");
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))) {
            site.startAppliance();
            allow(site, 1, 3);
            site.stopAppliance();
            Files.copy(data.resolve(dev.outpost.appliance.store.SiteDirectory.DB_FILE), copy);

            site.startAppliance();
            long copiedThrough = backlog(site).lastSeq();
            assertThat(backlog(site).restoredThrough()).as("a plain restart").isEqualTo(-1);
            allow(site, 4, 6);
            assertThat(backlog(site).lastSeq()).isGreaterThan(copiedThrough);
            site.stopAppliance();

            Files.copy(copy, data.resolve(dev.outpost.appliance.store.SiteDirectory.DB_FILE),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            site.startAppliance();
            assertThat(backlog(site).lastSeq()).isEqualTo(copiedThrough);
            assertThat(backlog(site).restoredThrough()).as("the copy put back by hand").isEqualTo(copiedThrough);
            allow(site, 7, 7);
            site.stopAppliance();

            site.startAppliance();
            assertThat(backlog(site).restoredThrough()).as("marked until central settles it, not again")
                    .isEqualTo(copiedThrough);
        }
    }

    private static void allow(SiteHarness site, int from, int to) throws IOException {
        AdminClient admin = new AdminClient(site.adminSocket());
        for (int i = from; i <= to; i++) {
            assertThat(admin.post("/v1/allow", "{\"ekHash\":\"" + String.format("%064x", i) + "\"}").ok()).isTrue();
        }
    }

    private static dev.outpost.appliance.store.OutboxStore.Backlog backlog(SiteHarness site) {
        return site.appliance().database().outbox().backlog();
    }

    @Test
    void aSiteRestoredFromAnOnlineBackupKeepsItsDevicesWithoutReEnrollment(Swtpm swtpm, @TempDir Path dir)
            throws Exception {
        SimulatedKernel kernel = new SimulatedKernel(swtpm::uri, dir.resolve("securityfs"));
        kernel.boot(BootProfile.defaults());
        kernel.measure("/usr/bin/outpost-agent", "agent".getBytes(StandardCharsets.UTF_8));
        Files.write(dir.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernel));
        Path data = dir.resolve("data");
        Path archive = dir.resolve("backups/site.tar.gz");
        Files.createDirectories(archive.getParent());
        try (SiteHarness site = new SiteHarness(dir, "cert", Duration.ofHours(1))
                .attestEvery(Duration.ofSeconds(4), Duration.ofSeconds(20))) {
            site.trustSwtpmManufacturer();
            site.startAppliance();
            String deviceId = site.trustWithPolicy(swtpm, dir.resolve("runtime.json"));
            AgentConfig config = site.agentConfig(swtpm, "agent", "rsa2048", "ecc", dir.resolve("securityfs"));
            SiteHarness.Running agent = site.startAgent(config);
            await("trusted", Duration.ofSeconds(60), () -> "trusted".equals(agent.daemon().verdict()));
            await("trusted in the store", Duration.ofSeconds(30), () -> "trusted".equals(state(site, deviceId)));
            byte[] caCert = Files.readAllBytes(site.caPem());
            byte[] jwtKey = Files.readAllBytes(data.resolve("ca/jwt.key"));

            // online: the appliance keeps serving while H2 copies the database
            CliRun backup = CliRun.run(ApplianceCli::commandLine, "backup", "--out", archive.toString(),
                    "--socket", site.adminSocket().toString());
            assertThat(backup.exitCode()).as(backup.err()).isZero();
            assertThat(backup.out()).contains("checked").contains("private key");
            assertThat(mode(archive)).as("the archive holds the CA key").isEqualTo("rw-------");
            assertThat(tarListing(archive)).as("tar keeps the key's mode inside the archive")
                    .anyMatch(l -> l.startsWith("-rw------- ") && l.endsWith(" ca/ca.key"))
                    .anyMatch(l -> l.startsWith("-rw------- ") && l.endsWith(" ca/jwt.key"))
                    .anyMatch(l -> l.startsWith("-rw------- ") && l.endsWith(" outpost.mv.db"));
            CliRun again = CliRun.run(ApplianceCli::commandLine, "backup", "--out", archive.toString(),
                    "--socket", site.adminSocket().toString());
            assertThat(again.exitCode()).isEqualTo(2);
            assertThat(again.err()).contains("exists");

            site.stopAppliance();
            wipe(data);

            // a damaged archive is refused before the data directory is touched
            Path damaged = dir.resolve("backups/damaged.tar.gz");
            byte[] bytes = Files.readAllBytes(archive);
            bytes[bytes.length / 2] ^= 0x55;
            Files.write(damaged, bytes);
            CliRun bad = CliRun.run(ApplianceCli::commandLine, "restore", "--from", damaged.toString(),
                    "--data-dir", data.toString());
            assertThat(bad.exitCode()).isEqualTo(2);
            assertThat(bad.err()).contains("damaged");
            assertThat(data).doesNotExist();

            CliRun restore = CliRun.run(ApplianceCli::commandLine, "restore", "--from", archive.toString(),
                    "--data-dir", data.toString());
            assertThat(restore.exitCode()).as(restore.err()).isZero();
            assertThat(restore.out()).contains("1 device(s)");
            assertThat(mode(data.resolve("ca/ca.key"))).isEqualTo("rw-------");
            assertThat(mode(data.resolve("outpost.mv.db"))).isEqualTo("rw-------");
            assertThat(Files.readAllBytes(site.caPem())).isEqualTo(caCert);
            assertThat(Files.readAllBytes(data.resolve("ca/jwt.key"))).as("JWT-SVIDs out keep validating")
                    .isEqualTo(jwtKey);

            CliRun over = CliRun.run(ApplianceCli::commandLine, "restore", "--from", archive.toString(),
                    "--data-dir", data.toString());
            assertThat(over.exitCode()).as("a non-empty data directory needs --force").isEqualTo(2);
            assertThat(over.err()).contains("is not empty").contains("--force");

            site.startAppliance();
            await("connected again", Duration.ofSeconds(60), () -> "connected".equals(agent.daemon().status()));
            long passedBefore = lastPassed(site, deviceId);
            await("a fresh pass after the restore", Duration.ofSeconds(60),
                    () -> "trusted".equals(state(site, deviceId)) && lastPassed(site, deviceId) > passedBefore);
            assertThat(audit(site, deviceId, "activate")).as("the device did not enroll again").isEqualTo(1);
            assertThat(audit(site, deviceId, "enroll")).isEqualTo(1);
        }
    }

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    private static java.util.List<String> tarListing(Path archive) throws Exception {
        Process p = new ProcessBuilder("tar", "-tzvf", archive.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("tar -tzvf: " + out).isZero();
        return out.lines().toList();
    }

    private static String state(SiteHarness site, String id) {
        return SiteAttestationTest.state(site, id);
    }

    private static long lastPassed(SiteHarness site, String id) {
        try {
            AdminClient.Reply r = new AdminClient(site.adminSocket()).get("/v1/devices/" + id);
            String at = JSON.readTree(r.body()).path("lastPassedAt").asText(null);
            return at == null ? 0 : java.time.Instant.parse(at).toEpochMilli();
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    private static long audit(SiteHarness site, String id, String action) throws IOException {
        AdminClient.Reply r = new AdminClient(site.adminSocket()).get("/v1/audit?device=" + id + "&limit=1000");
        long n = 0;
        for (JsonNode e : JSON.readTree(r.body())) {
            if (action.equals(e.path("action").asText()) && "ALLOW".equalsIgnoreCase(e.path("decision").asText())) {
                n++;
            }
        }
        return n;
    }

    private static void wipe(Path dir) throws IOException {
        try (Stream<Path> w = Files.walk(dir)) {
            w.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
