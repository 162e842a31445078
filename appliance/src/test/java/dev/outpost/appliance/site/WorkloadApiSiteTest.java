package dev.outpost.appliance.site;

import static dev.outpost.appliance.site.SiteHarness.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import com.nimbusds.jose.jwk.JWKSet;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.appliance.admin.AdminClient;
import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.sim.BootProfile;
import dev.outpost.sim.GoodPolicies;
import dev.outpost.sim.SimulatedKernel;
import dev.outpost.spiffe.PemIo;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import io.spiffe.bundle.jwtbundle.JwtBundle;
import io.spiffe.bundle.x509bundle.X509Bundle;
import io.spiffe.spiffeid.TrustDomain;
import io.spiffe.svid.jwtsvid.JwtSvid;
import io.spiffe.svid.x509svid.X509Svid;
import io.spiffe.workloadapi.DefaultJwtSource;
import io.spiffe.workloadapi.DefaultWorkloadApiClient;
import io.spiffe.workloadapi.DefaultX509Source;
import io.spiffe.workloadapi.JwtSource;
import io.spiffe.workloadapi.JwtSourceOptions;
import io.spiffe.workloadapi.Watcher;
import io.spiffe.workloadapi.WorkloadApiClient;
import io.spiffe.workloadapi.X509Context;

/**
 * The SPIFFE Workload API end to end (issue 16): a real agent (AgentDaemon on swtpm, enrolled and attested by a real
 * appliance, {@code workloadApi.enabled}) serves java-spiffe's own clients on its Unix socket: an X509-SVID with the
 * entry's SPIFFE ID that openssl chains to the site CA, the bundles, a renewal at half life pushed on the stream, and
 * a JWT-SVID that the agent's ValidateJWTSVID and java-spiffe (with the JWT bundle the agent serves, which holds the
 * site's key as the appliance's admin API publishes it) both accept; an ima:verified entry for this JVM's binary; and a
 * revoked device's workloads losing their identities. Callers under other uids, entry changes and a
 * failing device: {@link WorkloadApiAccessSiteTest}. Refusals at the protocol level: {@link WorkloadSiteTest}.
 */
@ExtendWith(SwtpmExtension.class)
class WorkloadApiSiteTest {
    static final TrustDomain TD = TrustDomain.parse(SiteHarness.TRUST_DOMAIN);
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    @Test
    void javaSpiffeClientsGetTheEntrysSvidsFromARealAgentAndSeeItRenewed(Swtpm swtpm, @TempDir Path dir)
            throws Exception {
        Path wl = WorkloadSite.socketDir();
        // This JVM's binary, measured by the device's IMA and allowed by its runtime policy: ima:verified holds for it.
        Path exe = Path.of("/proc/self/exe").toRealPath();
        try (WorkloadSite.Running site = WorkloadSite.start(swtpm, dir, wl.resolve("workload.sock"), exe)) {
            int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            // The shortest X509 life the entry rules allow (1 min): the agent renews it at 30 s.
            String web = WorkloadSiteTest.entry(site.site(), "--spiffe-id", "spiffe://outpost.test/app/web", "--parent",
                    "tpm:ek-hash:" + site.deviceId(), "--selector", "unix:uid:" + uid, "--dns", "web.local", "--ttl",
                    "1m", "--jwt-ttl", "2m");
            site.startAgent();

            try (DefaultX509Source source = DefaultX509Source.newSource(DefaultX509Source.X509SourceOptions.builder()
                    .spiffeSocketPath(site.address()).initTimeout(Duration.ofSeconds(60)).build());
                    WorkloadApiClient client = DefaultWorkloadApiClient.newClient(DefaultWorkloadApiClient.ClientOptions
                            .builder().spiffeSocketPath(site.address()).build())) {
                X509Svid svid = source.getX509Svid();
                assertThat(svid.getSpiffeId().toString()).isEqualTo("spiffe://outpost.test/app/web");
                X509Certificate leaf = svid.getLeaf();
                assertThat(leaf.getSubjectAlternativeNames().stream().map(l -> String.valueOf(l.get(1))).toList())
                        .containsExactlyInAnyOrder("spiffe://outpost.test/app/web", "web.local");
                assertThat(Duration.between(leaf.getNotBefore().toInstant(), leaf.getNotAfter().toInstant()))
                        .isEqualTo(Duration.ofMinutes(1).plus(SiteCa.BACKDATE));
                // The key never left the agent's memory: what java-spiffe holds matches the certificate.
                assertThat(svid.getPrivateKey().getAlgorithm()).isEqualTo("EC");

                // The bundle served is the site CA's; openssl chains the SVID to the CA file the appliance keeps.
                X509Certificate ca = PemIo.certificates(Files.readString(site.site().caPem()), 8).get(0);
                X509Bundle bundle = source.getBundleForTrustDomain(TD);
                assertThat(bundle.getX509Authorities()).contains(ca);
                assertThat(client.fetchX509Bundles().getBundleForTrustDomain(TD).getX509Authorities()).contains(ca);
                Path chain = dir.resolve("svid.pem");
                Files.writeString(chain, PemIo.encode(svid.getChain()));
                WorkloadSiteTest.SiteCaOpenssl.verify(site.site().caPem(), chain);
                String audit = new AdminClient(site.site().adminSocket()).get("/v1/audit?device=" + site.deviceId()
                        + "&limit=100").body();
                assertThat(audit).contains("issued spiffe://outpost.test/app/web under entry " + web + ", serial "
                        + leaf.getSerialNumber().toString(16));

                // Renewal at half life, pushed on the stream: a new certificate with a new key; the source follows.
                BlockingQueue<Object> updates = new LinkedBlockingQueue<>();
                client.watchX509Context(watcher(updates));
                BigInteger serial = leaf.getSerialNumber();
                X509Context renewed = null;
                for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120); renewed == null
                        && System.nanoTime() < end;) {
                    Object u = updates.poll(5, TimeUnit.SECONDS);
                    if (u instanceof Throwable t) {
                        throw new AssertionError("the stream failed", t);
                    }
                    if (u instanceof X509Context x && !x.getDefaultSvid().getLeaf().getSerialNumber().equals(serial)) {
                        renewed = x;
                    }
                }
                assertThat(renewed).as("a renewed SVID on the stream").isNotNull();
                X509Certificate next = renewed.getDefaultSvid().getLeaf();
                assertThat(renewed.getDefaultSvid().getSpiffeId().toString()).isEqualTo("spiffe://outpost.test/app/web");
                assertThat(next.getPublicKey()).isNotEqualTo(leaf.getPublicKey());
                assertThat(next.getNotAfter()).isAfter(leaf.getNotAfter());
                // Renewed from half life on, not before: the half of the certificate's validity (notBefore is
                // backdated by SiteCa.BACKDATE, so the new one was signed at its notBefore + BACKDATE).
                Duration life = Duration.between(leaf.getNotBefore().toInstant(), leaf.getNotAfter().toInstant());
                assertThat(next.getNotBefore().toInstant().plus(SiteCa.BACKDATE)).isAfterOrEqualTo(
                        leaf.getNotBefore().toInstant().plus(life.dividedBy(2)).minusSeconds(1));
                await("the source follows the stream", Duration.ofSeconds(30),
                        () -> !source.getX509Svid().getLeaf().getSerialNumber().equals(serial));
                Files.writeString(chain, PemIo.encode(source.getX509Svid().getChain()));
                WorkloadSiteTest.SiteCaOpenssl.verify(site.site().caPem(), chain);
            }

            // A JWT-SVID through java-spiffe's JWT source, validated by the agent and by java-spiffe itself.
            try (JwtSource jwts = DefaultJwtSource.newSource(JwtSourceOptions.builder().spiffeSocketPath(site.address())
                    .initTimeout(Duration.ofSeconds(60)).build());
                    WorkloadApiClient client = DefaultWorkloadApiClient.newClient(DefaultWorkloadApiClient.ClientOptions
                            .builder().spiffeSocketPath(site.address()).build())) {
                JwtSvid jwt = jwts.fetchJwtSvid("billing");
                assertThat(jwt.getSpiffeId().toString()).isEqualTo("spiffe://outpost.test/app/web");
                assertThat(jwt.getAudience()).containsExactly("billing");
                assertThat(Duration.between(jwt.getIssuedAt().toInstant(), jwt.getExpiry().toInstant()))
                        .isLessThanOrEqualTo(Duration.ofMinutes(2));

                JwtSvid valid = client.validateJwtSvid(jwt.getToken(), "billing");
                assertThat(valid.getSpiffeId().toString()).isEqualTo("spiffe://outpost.test/app/web");
                assertThatThrownBy(() -> client.validateJwtSvid(jwt.getToken(), "payroll"))
                        .hasStackTraceContaining("INVALID_ARGUMENT");
                String forged = jwt.getToken().substring(0, jwt.getToken().lastIndexOf('.') + 1) + "AAAA";
                assertThatThrownBy(() -> client.validateJwtSvid(forged, "billing"))
                        .hasStackTraceContaining("INVALID_ARGUMENT");

                JwtBundle jb = client.fetchJwtBundles().getBundleForTrustDomain(TD);
                assertThat(jwts.getBundleForTrustDomain(TD).getJwtAuthorities().keySet())
                        .isEqualTo(jb.getJwtAuthorities().keySet());
                JwtSvid parsed = JwtSvid.parseAndValidate(jwt.getToken(), jb, Set.of("billing"));
                assertThat(parsed.getSpiffeId().toString()).isEqualTo("spiffe://outpost.test/app/web");
                assertThat(parsed.getClaims().get("jti")).isNotNull();
                // The agent's JWT bundle holds the keys the appliance publishes in its SPIFFE bundle.
                String spiffeBundle = new AdminClient(site.site().adminSocket()).get("/v1/bundle?format=spiffe").body();
                String kid = com.nimbusds.jwt.SignedJWT.parse(jwt.getToken()).getHeader().getKeyID();
                assertThat(JWKSet.parse(spiffeBundle).getKeyByKeyId(kid)).isNotNull();
                assertThat(jb.getJwtAuthorities()).containsKey(kid);
            }

            // ima:verified through both halves: the agent finds the caller's binary in the device's IMA list and
            // names it, the appliance checks the device's runtime policy allows that digest at that path.
            String sha = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(Files.readAllBytes(exe)));
            String measured = WorkloadSiteTest.entry(site.site(), "--spiffe-id", "spiffe://outpost.test/app/measured",
                    "--parent", "outpost:node-key:tpm", "--selector", "unix:uid:" + uid, "--selector", "unix:path:" + exe,
                    "--selector", "unix:sha256:" + sha, "--selector", "ima:verified");
            var identities = site.agent().daemon().workloadApi().identities();
            long revision = JSON.readTree(new AdminClient(site.site().adminSocket()).get("/v1/entries").body())
                    .path("revision").asLong();
            await("the agent holds entries revision " + revision, Duration.ofSeconds(60),
                    () -> identities.entriesRevision() == revision);
            try (WorkloadApiClient client = DefaultWorkloadApiClient.newClient(DefaultWorkloadApiClient.ClientOptions
                    .builder().spiffeSocketPath(site.address()).build())) {
                assertThat(ids(client.fetchX509Context())).containsExactly("spiffe://outpost.test/app/measured",
                        "spiffe://outpost.test/app/web");
            }
            String audit = new AdminClient(site.site().adminSocket()).get("/v1/audit?device=" + site.deviceId()
                    + "&limit=200").body();
            assertThat(audit).contains("issued spiffe://outpost.test/app/measured under entry " + measured);

            // An operator revokes the device: the appliance drops its session and keeps it out at CONNECT (no verdict
            // reaches the agent). The agent takes the refusal as the appliance no longer vouching for the node: its
            // workloads lose their identities now, not when the SVIDs they hold expire.
            try (RawX509Stream stream = new RawX509Stream(site.socket())) {
                assertThat(stream.next(30)).isInstanceOf(io.spiffe.workloadapi.grpc.Workload.X509SVIDResponse.class);
                dev.outpost.testkit.CliRun r = dev.outpost.testkit.CliRun.run(
                        dev.outpost.appliance.cli.ApplianceCli::commandLine, "device", "revoke", site.deviceId(),
                        "--socket", site.site().adminSocket().toString());
                assertThat(r.exitCode()).as(r.err()).isZero();
                io.grpc.Status end = stream.end(60);
                assertThat(end).as("the stream ended").isNotNull();
                assertThat(end.getCode()).isEqualTo(io.grpc.Status.Code.UNAVAILABLE);
            }
            try (WorkloadApiClient client = DefaultWorkloadApiClient.newClient(DefaultWorkloadApiClient.ClientOptions
                    .builder().spiffeSocketPath(site.address()).build())) {
                assertThatThrownBy(client::fetchX509Context).hasStackTraceContaining("UNAVAILABLE");
            }
        } finally {
            WorkloadSite.delete(wl);
        }
    }

    static Watcher<X509Context> watcher(BlockingQueue<Object> q) {
        return new Watcher<>() {
            @Override
            public void onUpdate(X509Context update) {
                q.add(update);
            }

            @Override
            public void onError(Throwable error) {
                q.add(error);
            }
        };
    }

    static List<String> ids(X509Context c) {
        return c.getX509Svids().stream().map(s -> s.getSpiffeId().toString()).sorted(Comparator.naturalOrder()).toList();
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
