package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;
import static dev.outpost.appliance.site.WorkloadSiteTest.entry;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.agent.workload.WorkloadIdentities;
import dev.outpost.appliance.admin.AdminClient;
import dev.outpost.appliance.cli.ApplianceCli;
import dev.outpost.testkit.CliRun;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import io.grpc.Status;
import io.spiffe.workloadapi.DefaultWorkloadApiClient;
import io.spiffe.workloadapi.WorkloadApiClient;
import io.spiffe.workloadapi.grpc.Workload.X509SVIDResponse;

/**
 * Who gets what from a real agent's Workload API, and how it follows the appliance (issue 16): a workload under
 * another uid (a child JVM under {@code setpriv}) gets its own entry's identity, one whose uid no entry names gets
 * PermissionDenied; an entry made while the agent runs reaches it through the next verdict's entriesRevision, a
 * deleted one stops being served (a stream whose only entry went ends with PermissionDenied); and a device that fails
 * attestation takes its workloads' identities with it. The agent's own view of a refused CSR: WorkloadSiteTest.
 */
@ExtendWith(SwtpmExtension.class)
class WorkloadApiAccessSiteTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String NOBODY = "65534";
    private static final int STRANGER = 65533;

    @Test
    void otherUidsGetTheirOwnIdentityOrNoneAndEntryChangesReachTheAgent(Swtpm swtpm, @TempDir Path dir)
            throws Exception {
        Path wl = WorkloadSite.socketDir();
        try (WorkloadSite.Running site = WorkloadSite.start(swtpm, dir, wl.resolve("workload.sock"))) {
            String parent = "tpm:ek-hash:" + site.deviceId();
            String self = entry(site.site(), "--spiffe-id", "spiffe://outpost.test/app/root", "--parent", parent,
                    "--selector", "unix:uid:" + uid());
            entry(site.site(), "--spiffe-id", "spiffe://outpost.test/app/nobody", "--parent", parent, "--selector",
                    "unix:uid:" + NOBODY);
            site.startAgent();

            try (WorkloadApiClient client = client(site)) {
                assertThat(WorkloadApiSiteTest.ids(client.fetchX509Context()))
                        .containsExactly("spiffe://outpost.test/app/root");
            }
            // The kernel names the caller's uid on the socket: another process, another identity, or none.
            assertThat(WorkloadChild.run(wl, Integer.parseInt(NOBODY), site.address()))
                    .contains("SPIFFE_ID=spiffe://outpost.test/app/nobody");
            assertThat(WorkloadChild.run(wl, STRANGER, site.address())).contains("ERROR=").contains("PERMISSION_DENIED")
                    .doesNotContain("SPIFFE_ID=");

            // An entry made now reaches the running agent with the next verdict (its entriesRevision moved).
            WorkloadIdentities identities = site.agent().daemon().workloadApi().identities();
            String late = entry(site.site(), "--spiffe-id", "spiffe://outpost.test/app/late", "--parent", parent,
                    "--selector", "unix:uid:" + STRANGER);
            long revision = revision(site);
            await("the agent holds entries revision " + revision, Duration.ofSeconds(60),
                    () -> identities.entriesRevision() == revision);
            assertThat(WorkloadChild.run(wl, STRANGER, site.address()))
                    .contains("SPIFFE_ID=spiffe://outpost.test/app/late");

            // A deleted entry stops being served: the stream of a caller it was the only entry of ends, new calls
            // are refused.
            try (RawX509Stream stream = new RawX509Stream(site.socket())) {
                assertThat(stream.next(30)).isInstanceOfSatisfying(X509SVIDResponse.class,
                        r -> assertThat(r.getSvids(0).getSpiffeId()).isEqualTo("spiffe://outpost.test/app/root"));
                delete(site, self);
                Status end = stream.end(60);
                assertThat(end).as("the stream ended").isNotNull();
                assertThat(end.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
            }
            assertThat(identities.entriesRevision()).isEqualTo(revision(site));
            try (WorkloadApiClient client = client(site)) {
                assertThatThrownBy(client::fetchX509Context).hasStackTraceContaining("PERMISSION_DENIED");
                assertThatThrownBy(() -> client.fetchJwtSvid("billing")).hasStackTraceContaining("PERMISSION_DENIED");
            }
            delete(site, late);
            long after = revision(site);
            await("the agent holds entries revision " + after, Duration.ofSeconds(60),
                    () -> identities.entriesRevision() == after);
            assertThat(WorkloadChild.run(wl, STRANGER, site.address())).contains("PERMISSION_DENIED")
                    .doesNotContain("SPIFFE_ID=");
            assertThat(WorkloadChild.run(wl, Integer.parseInt(NOBODY), site.address()))
                    .contains("SPIFFE_ID=spiffe://outpost.test/app/nobody");
        } finally {
            WorkloadSite.delete(wl);
        }
    }

    @Test
    void aDeviceThatFailsAttestationTakesItsWorkloadsIdentitiesWithIt(Swtpm swtpm, @TempDir Path dir) throws Exception {
        Path wl = WorkloadSite.socketDir();
        try (WorkloadSite.Running site = WorkloadSite.start(swtpm, dir, wl.resolve("workload.sock"))) {
            String root = entry(site.site(), "--spiffe-id", "spiffe://outpost.test/app/root", "--parent", "tpm:ek-hash:"
                    + site.deviceId(), "--selector", "unix:uid:" + uid());
            site.startAgent();
            try (WorkloadApiClient client = client(site); RawX509Stream stream = new RawX509Stream(site.socket())) {
                assertThat(stream.next(30)).isInstanceOf(X509SVIDResponse.class);
                assertThat(client.fetchJwtSvid("billing").getSpiffeId().toString())
                        .isEqualTo("spiffe://outpost.test/app/root");

                // The device runs something its policy does not allow: the next attestation fails it, the agent
                // hears the verdict and withdraws every workload identity: open streams end, new calls are refused.
                site.kernel().measureUnlisted("/tmp/cryptominer", "evil".getBytes(StandardCharsets.UTF_8));
                Status end = stream.end(60);
                assertThat(end).as("the stream ended").isNotNull();
                assertThat(end.getCode()).isIn(Status.Code.UNAVAILABLE, Status.Code.PERMISSION_DENIED);
                await("failed at the appliance", Duration.ofSeconds(30),
                        () -> WorkloadSiteTest.state(site.site(), site.deviceId()).equals("failed"));
                assertThat(site.agent().daemon().verdict()).isEqualTo("failed");
                assertThatThrownBy(client::fetchX509Context).hasStackTraceContaining("UNAVAILABLE");
                assertThatThrownBy(() -> client.fetchJwtSvid("billing")).hasStackTraceContaining("UNAVAILABLE");
                try (RawX509Stream again = new RawX509Stream(site.socket())) {
                    Object first = again.next(30);
                    assertThat(first).isInstanceOfSatisfying(Status.class,
                            s -> assertThat(s.getCode()).isEqualTo(Status.Code.UNAVAILABLE));
                }
            }
            // Nothing was issued after the failure: the appliance's audit has the one SVID and one token only.
            String audit = new AdminClient(site.site().adminSocket()).get("/v1/audit?device=" + site.deviceId()
                    + "&limit=200").body();
            assertThat(count(audit, "issued spiffe://outpost.test/app/root under entry " + root + ", serial ")).isEqualTo(1);
            assertThat(count(audit, "issued spiffe://outpost.test/app/root under entry " + root + " for [billing], jti "))
                    .isEqualTo(1);
        } finally {
            WorkloadSite.delete(wl);
        }
    }

    private static WorkloadApiClient client(WorkloadSite.Running site) throws Exception {
        return DefaultWorkloadApiClient.newClient(DefaultWorkloadApiClient.ClientOptions.builder()
                .spiffeSocketPath(site.address()).build());
    }

    private static int uid() throws java.io.IOException {
        return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    }

    private static long revision(WorkloadSite.Running site) throws java.io.IOException {
        return JSON.readTree(new AdminClient(site.site().adminSocket()).get("/v1/entries").body()).path("revision")
                .asLong();
    }

    private static void delete(WorkloadSite.Running site, String id) {
        CliRun r = CliRun.run(ApplianceCli::commandLine, "entry", "delete", id, "--socket",
                site.site().adminSocket().toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }
}
