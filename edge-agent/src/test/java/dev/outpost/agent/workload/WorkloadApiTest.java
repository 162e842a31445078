package dev.outpost.agent.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.Verdict;
import dev.outpost.testkit.MutableClock;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.spiffe.bundle.x509bundle.X509Bundle;
import io.spiffe.spiffeid.TrustDomain;
import io.spiffe.svid.jwtsvid.JwtSvid;
import io.spiffe.workloadapi.DefaultJwtSource;
import io.spiffe.workloadapi.DefaultWorkloadApiClient;
import io.spiffe.workloadapi.DefaultX509Source;
import io.spiffe.workloadapi.JwtSource;
import io.spiffe.workloadapi.JwtSourceOptions;
import io.spiffe.workloadapi.Watcher;
import io.spiffe.workloadapi.WorkloadApiClient;
import io.spiffe.workloadapi.X509Context;
import io.spiffe.workloadapi.grpc.SpiffeWorkloadAPIGrpc;
import io.spiffe.workloadapi.grpc.Workload.X509SVIDRequest;
import io.spiffe.workloadapi.grpc.Workload.X509SVIDResponse;

/**
 * The agent's Workload API on a real Unix socket, asked by java-spiffe's own clients in this JVM (root) and in a
 * child process under another uid; the appliance side is {@link TestAppliance}.
 */
class WorkloadApiTest {
    @TempDir
    Path tmp;
    MutableClock clock;
    TestAppliance appliance;
    WorkloadApi api;
    Path socket;
    int uid;

    @BeforeEach
    void start() throws Exception {
        clock = new MutableClock();
        appliance = new TestAppliance(clock);
        uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        appliance.entries = List.of(TestAppliance.entry("e-self", "/app/self", List.of("unix:uid:" + uid)),
                TestAppliance.entry("e-nobody", "/app/nobody", List.of("unix:uid:65534")));
        socket = tmp.resolve("run/workload.sock");
        api = WorkloadApi.start(settings(socket), TestAppliance.TD, appliance, appliance::bundles, clock);
        api.identities().refreshEntries();
    }

    private WorkloadApi.Settings settings(Path s) {
        return new WorkloadApi.Settings(s, Path.of("/proc"), Path.of("/etc/passwd"), Path.of("/etc/group"),
                tmp.resolve("no-ima-list"), 256L * 1024 * 1024, Duration.ofHours(1), Duration.ZERO);
    }

    @AfterEach
    void stop() {
        api.close();
    }

    private String address() {
        return "unix:" + socket;
    }

    private WorkloadApiClient client() throws Exception {
        return DefaultWorkloadApiClient.newClient(DefaultWorkloadApiClient.ClientOptions.builder()
                .spiffeSocketPath(address()).build());
    }

    @Test
    void x509SvidAndBundleReachJavaSpiffeAndTheStreamSeesTheRotation() throws Exception {
        try (DefaultX509Source source = DefaultX509Source.newSource(DefaultX509Source.X509SourceOptions.builder()
                .spiffeSocketPath(address()).initTimeout(Duration.ofSeconds(10)).build());
                WorkloadApiClient client = client()) {
            assertThat(source.getX509Svid().getSpiffeId().toString()).isEqualTo("spiffe://site.test/app/self");
            X509Bundle bundle = source.getBundleForTrustDomain(TrustDomain.parse(TestAppliance.TD));
            assertThat(bundle.getX509Authorities()).containsExactly(appliance.ca);
            source.getX509Svid().getLeaf().verify(appliance.ca.getPublicKey());

            BlockingQueue<Object> updates = new LinkedBlockingQueue<>();
            client.watchX509Context(watcher(updates));
            X509Context first = (X509Context) updates.poll(10, TimeUnit.SECONDS);
            BigInteger serial = first.getDefaultSvid().getLeaf().getSerialNumber();

            clock.advance(Duration.ofMinutes(31)); // past half of the 1 h life
            api.identities().tick();
            Object next = updates.poll(10, TimeUnit.SECONDS);
            assertThat(next).isInstanceOf(X509Context.class);
            BigInteger renewed = ((X509Context) next).getDefaultSvid().getLeaf().getSerialNumber();
            assertThat(renewed).isNotEqualTo(serial);
            assertThat(((X509Context) next).getDefaultSvid().getLeaf().getPublicKey())
                    .isNotEqualTo(first.getDefaultSvid().getLeaf().getPublicKey());
            // The source follows the same stream.
            for (int i = 0; i < 100 && source.getX509Svid().getLeaf().getSerialNumber().equals(serial); i++) {
                Thread.sleep(50);
            }
            assertThat(source.getX509Svid().getLeaf().getSerialNumber()).isEqualTo(renewed);
        }
    }

    @Test
    void jwtSvidIsFetchedCachedAndValidatedByTheAgent() throws Exception {
        try (JwtSource source = DefaultJwtSource.newSource(JwtSourceOptions.builder().spiffeSocketPath(address())
                .initTimeout(Duration.ofSeconds(10)).build());
                WorkloadApiClient client = client()) {
            JwtSvid svid = source.fetchJwtSvid("db");
            assertThat(svid.getSpiffeId().toString()).isEqualTo("spiffe://site.test/app/self");
            assertThat(source.fetchJwtSvid("db").getToken()).isEqualTo(svid.getToken()); // cached until half life
            assertThat(appliance.jwtsIssued.get()).isEqualTo(1);

            JwtSvid valid = client.validateJwtSvid(svid.getToken(), "db");
            assertThat(valid.getSpiffeId().toString()).isEqualTo("spiffe://site.test/app/self");
            assertThat(client.fetchJwtBundles().getBundleForTrustDomain(TrustDomain.parse(TestAppliance.TD))
                    .getJwtAuthorities()).containsKey(appliance.kid);

            assertThatThrownBy(() -> client.validateJwtSvid(svid.getToken(), "other"))
                    .hasStackTraceContaining("INVALID_ARGUMENT").hasStackTraceContaining("audience");
            String forged = svid.getToken().substring(0, svid.getToken().lastIndexOf('.') + 1)
                    + "AAAA" + svid.getToken().substring(svid.getToken().lastIndexOf('.') + 5);
            assertThatThrownBy(() -> client.validateJwtSvid(forged, "db")).hasStackTraceContaining("INVALID_ARGUMENT");
            clock.advance(Duration.ofMinutes(6)); // past the 5 min exp
            assertThatThrownBy(() -> client.validateJwtSvid(svid.getToken(), "db")).hasStackTraceContaining("expired");
        }
    }

    @Test
    void aFederatedJwtSvidValidatesOnlyForACallerWhoseEntryFederatesWithItsTrustDomain() throws Exception {
        TestAppliance partner = new TestAppliance(clock);
        partner.entries = List.of(new dev.outpost.mqtt.protocol.WorkloadEntry("p", "spiffe://partner.test/api",
                List.of("x:y"), 3600, 300, List.of(), List.of()));
        String token = partner.jwt(new dev.outpost.mqtt.protocol.WorkloadJwtRequest(1, "p", List.of("db"), null, null))
                .token();
        appliance.federatedJwt = java.util.Map.of("partner.test", partner.jwks());
        api.bundlesChanged();
        try (WorkloadApiClient client = client()) {
            assertThatThrownBy(() -> client.validateJwtSvid(token, "db")).hasStackTraceContaining("INVALID_ARGUMENT")
                    .hasStackTraceContaining("no JWT authorities for trust domain partner.test");
            appliance.entries = List.of(new dev.outpost.mqtt.protocol.WorkloadEntry("e-self", "spiffe://site.test/app/self",
                    List.of("unix:uid:" + uid), 3600, 300, List.of("partner.test"), List.of()));
            appliance.revision = 3;
            api.identities().refreshEntries();
            assertThat(client.validateJwtSvid(token, "db").getSpiffeId().toString()).isEqualTo("spiffe://partner.test/api");
        }
    }

    @Test
    void aCallerWithNoEntryIsDeniedAndItsStreamEndsWhenItsEntryGoes() throws Exception {
        try (WorkloadApiClient client = client(); RawStream stream = new RawStream(socket, true).x509()) {
            assertThat(stream.next()).isInstanceOf(X509SVIDResponse.class);

            appliance.entries = List.of(TestAppliance.entry("e-nobody", "/app/nobody", List.of("unix:uid:65534")));
            appliance.revision = 2;
            api.onVerdict(new Verdict(1, "trusted", List.of(), 0, null, 2L));
            assertThat(statusOf((Throwable) stream.next())).isEqualTo(Status.Code.PERMISSION_DENIED);
            assertThat(api.identities().entriesRevision()).isEqualTo(2);
            assertThatThrownBy(client::fetchX509Context).hasStackTraceContaining("PERMISSION_DENIED");
            assertThatThrownBy(() -> client.fetchJwtSvid("db")).hasStackTraceContaining("PERMISSION_DENIED");
        }
    }

    @Test
    void dnsNamesReachTheSvidAndANewFederatedBundleReachesTheBundleStream() throws Exception {
        appliance.entries = List.of(new dev.outpost.mqtt.protocol.WorkloadEntry("e-web", "spiffe://site.test/app/web",
                List.of("unix:uid:" + uid), 3600, 300, List.of("partner.test"), List.of("web.local")));
        appliance.revision = 5;
        api.identities().refreshEntries();
        try (WorkloadApiClient client = client()) {
            X509Context ctx = client.fetchX509Context();
            assertThat(ctx.getDefaultSvid().getLeaf().getSubjectAlternativeNames())
                    .anyMatch(san -> san.get(0).equals(2) && "web.local".equals(san.get(1)));
            BlockingQueue<Object> updates = new LinkedBlockingQueue<>();
            client.watchX509Bundles(new Watcher<io.spiffe.bundle.x509bundle.X509BundleSet>() {
                @Override
                public void onUpdate(io.spiffe.bundle.x509bundle.X509BundleSet update) {
                    updates.add(update);
                }

                @Override
                public void onError(Throwable error) {
                    updates.add(error);
                }
            });
            var first = (io.spiffe.bundle.x509bundle.X509BundleSet) updates.poll(10, TimeUnit.SECONDS);
            assertThat(first.getBundles()).containsOnlyKeys(TrustDomain.parse(TestAppliance.TD));

            java.security.cert.X509Certificate partner = new TestAppliance(clock).ca;
            appliance.federated = java.util.Map.of("partner.test", List.of(partner), "stranger.test", List.of(partner));
            appliance.bundleSequence = 2;
            api.bundlesChanged();
            var next = (io.spiffe.bundle.x509bundle.X509BundleSet) updates.poll(10, TimeUnit.SECONDS);
            // Only the trust domains its entry federates with: not every one the site knows.
            assertThat(next.getBundles()).containsOnlyKeys(TrustDomain.parse(TestAppliance.TD), TrustDomain.parse("partner.test"));
            assertThat(next.getBundles().get(TrustDomain.parse("partner.test")).getX509Authorities()).containsExactly(partner);
            assertThat(client.fetchX509Context().getX509BundleSet().getBundles()).containsKey(TrustDomain.parse("partner.test"));
        }
    }

    @Test
    void aCallWithoutTheSecurityHeaderIsRefused() throws Exception {
        EpollEventLoopGroup group = new EpollEventLoopGroup(1);
        ManagedChannel ch = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .eventLoopGroup(group).channelType(EpollDomainSocketChannel.class).usePlaintext().build();
        try {
            var it = SpiffeWorkloadAPIGrpc.newBlockingStub(ch).fetchX509SVID(X509SVIDRequest.getDefaultInstance());
            assertThatThrownBy(it::next).isInstanceOf(StatusRuntimeException.class)
                    .satisfies(e -> assertThat(((StatusRuntimeException) e).getStatus().getCode())
                            .isEqualTo(Status.Code.INVALID_ARGUMENT))
                    .hasMessageContaining("security header");
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    @Test
    void identityFollowsStateAndAnAbsentApplianceOnlyUntilExpiry() throws Exception {
        try (WorkloadApiClient client = client(); RawStream stream = new RawStream(socket, true).x509()) {
            X509SVIDResponse first = (X509SVIDResponse) stream.next();

            // Appliance away: the held SVID is served, renewals fail, at its end it is gone.
            appliance.away = true;
            clock.advance(Duration.ofMinutes(40));
            api.identities().tick();
            int asked = appliance.svidRequests.get();
            api.identities().tick(); // within the retry interval: not asked again
            assertThat(appliance.svidRequests.get()).isEqualTo(asked);
            clock.advance(X509Svids.RETRY);
            api.identities().tick();
            assertThat(appliance.svidRequests.get()).isEqualTo(asked + 1);
            assertThat(client.fetchX509Context().getDefaultSvid().getLeaf().getEncoded())
                    .isEqualTo(first.getSvids(0).getX509Svid().substring(0, client.fetchX509Context().getDefaultSvid()
                            .getLeaf().getEncoded().length).toByteArray());
            clock.advance(Duration.ofMinutes(21));
            api.identities().tick();
            assertThat(statusOf((Throwable) stream.next())).isEqualTo(Status.Code.UNAVAILABLE);
            assertThatThrownBy(client::fetchX509Context).hasStackTraceContaining("UNAVAILABLE");

            // Back and trusted: served again; then a failed verdict withdraws it and ends the stream.
            appliance.away = false;
            try (RawStream again = new RawStream(socket, true).x509()) {
                assertThat(again.next()).isInstanceOf(X509SVIDResponse.class);
                api.onVerdict(new Verdict(1, "failed", List.of("ima.DIGEST_MISMATCH: x"), 0, null, 1L));
                assertThat(statusOf((Throwable) again.next())).isEqualTo(Status.Code.UNAVAILABLE);
            }
            assertThatThrownBy(client::fetchX509Context).hasStackTraceContaining("UNAVAILABLE");

            // The appliance refuses (node not trusted there) even before the agent hears a verdict.
            api.onVerdict(new Verdict(1, "trusted", List.of(), 0, null, 1L));
            appliance.refuse = ErrorCode.NOT_TRUSTED;
            assertThatThrownBy(client::fetchX509Context).hasStackTraceContaining("UNAVAILABLE");
        }
    }

    @Test
    void anImaVerifiedEntryNeedsTheBinaryInTheDevicesImaListAndTellsTheApplianceWhich() throws Exception {
        api.close();
        Path exe = Path.of("/proc/self/exe").toRealPath();
        String sha = java.util.HexFormat.of().formatHex(
                java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(exe)));
        Path ima = tmp.resolve("ima");
        Files.write(ima, new ImaListWriter().imaNgSha256("00".repeat(32), exe.toString()).bytes());
        appliance.entries = List.of(TestAppliance.entry("e-ima", "/app/measured", List.of("unix:uid:" + uid, "ima:verified")));
        api = WorkloadApi.start(new WorkloadApi.Settings(socket, Path.of("/proc"), Path.of("/etc/passwd"),
                Path.of("/etc/group"), ima, 256L * 1024 * 1024, Duration.ofHours(1), Duration.ZERO), TestAppliance.TD, appliance,
                appliance::bundles, clock);
        api.identities().refreshEntries();
        try (WorkloadApiClient client = client()) {
            assertThatThrownBy(client::fetchX509Context).hasStackTraceContaining("PERMISSION_DENIED");
            Files.write(ima, new ImaListWriter().imaNgSha256(sha, exe.toString()).bytes(),
                    java.nio.file.StandardOpenOption.APPEND);
            assertThat(client.fetchX509Context().getDefaultSvid().getSpiffeId().toString()).endsWith("/app/measured");
            assertThat(appliance.lastSvidRequest.imaPath()).isEqualTo(exe.toString());
            assertThat(appliance.lastSvidRequest.imaSha256()).isEqualTo(sha);
        }
    }

    @Test
    void beforeTheFirstEntriesArriveACallerIsToldUnavailableNotDenied() throws Exception {
        // An agent started with its node identity while the appliance is away knows no entries yet: it cannot say
        // the caller matches none.
        api.close();
        appliance.away = true;
        api = WorkloadApi.start(settings(socket), TestAppliance.TD, appliance, appliance::bundles, clock);
        try (WorkloadApiClient client = client()) {
            assertThatThrownBy(client::fetchX509Context).hasStackTraceContaining("UNAVAILABLE");
            assertThatThrownBy(() -> client.fetchJwtSvid("db")).hasStackTraceContaining("UNAVAILABLE");
            appliance.away = false;
            api.identities().refreshEntries();
            assertThat(client.fetchX509Context().getDefaultSvid().getSpiffeId().toString()).endsWith("/app/self");
        }
    }

    @Test
    void anotherUidGetsAnotherIdentity() throws Exception {
        ChildJvm.Result r = ChildJvm.run(tmp, 65534, WorkloadClientMain.class, address());
        assertThat(r.stdout()).contains("SPIFFE_ID=spiffe://site.test/app/nobody");
        ChildJvm.Result denied = ChildJvm.run(tmp, 65533, WorkloadClientMain.class, address(), "fetch");
        assertThat(denied.stdout()).contains("ERROR=").contains("PERMISSION_DENIED");
    }

    @Test
    void socketModesAndWhatMayBeReplacedAtStart() throws Exception {
        assertThat(Files.getPosixFilePermissions(socket)).isEqualTo(PosixFilePermissions.fromString("rw-rw-rw-"));
        assertThat(Files.getPosixFilePermissions(socket.getParent())).isEqualTo(PosixFilePermissions.fromString("rwxr-xr-x"));
        assertThat(((Integer) Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS)) & 0170000).isEqualTo(0140000);

        // A stale socket (its server gone without cleaning up) is replaced.
        Path stale = tmp.resolve("stale/workload.sock");
        try (var leftover = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            Files.createDirectories(stale.getParent());
            leftover.bind(java.net.UnixDomainSocketAddress.of(stale));
        }
        try (WorkloadApi second = WorkloadApi.start(settings(stale), TestAppliance.TD, appliance, appliance::bundles, clock)) {
            assertThat(Files.getPosixFilePermissions(stale)).isEqualTo(PosixFilePermissions.fromString("rw-rw-rw-"));
        }
        // Something that is not a socket is not.
        Path file = tmp.resolve("file/workload.sock");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "keep me");
        assertThatThrownBy(() -> WorkloadApi.start(settings(file), TestAppliance.TD, appliance, appliance::bundles, clock))
                .isInstanceOf(IOException.class).hasMessageContaining("not a socket");
        assertThat(Files.readString(file)).isEqualTo("keep me");
    }

    @Test
    void connectionsBeyondTheLimitAreClosedAndTheirPlacesFreedOnClose() throws Exception {
        Path s = tmp.resolve("cap/w.sock");
        WorkloadAttestor attestor = new WorkloadAttestor(Path.of("/proc"), Path.of("/etc/passwd"), Path.of("/etc/group"),
                tmp.resolve("none"), 1 << 20, Duration.ZERO);
        java.util.concurrent.ExecutorService calls = java.util.concurrent.Executors.newFixedThreadPool(2);
        try (WorkloadApiServer server = WorkloadApiServer.start(s, new WorkloadApiService(attestor, api.identities(),
                new JwtSvidValidator(clock)), attestor.procStat(), calls, 2)) {
            var a = java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(s));
            var b = java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(s));
            var c = java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(s));
            // The third is closed by the server: its read ends.
            assertThat(c.read(java.nio.ByteBuffer.allocate(64 * 1024))).isEqualTo(-1);
            a.close();
            b.close();
            // Places are given back when connections close: a client gets served again.
            try (WorkloadApiClient client = DefaultWorkloadApiClient.newClient(DefaultWorkloadApiClient.ClientOptions
                    .builder().spiffeSocketPath("unix:" + s).build())) {
                assertThat(client.fetchX509Context().getDefaultSvid().getSpiffeId().toString()).endsWith("/app/self");
            }
            c.close();
        } finally {
            calls.shutdownNow();
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

    static Status.Code statusOf(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof StatusRuntimeException s) {
                return s.getStatus().getCode();
            }
            if (c instanceof io.grpc.StatusException s) {
                return s.getStatus().getCode();
            }
        }
        throw new AssertionError("no gRPC status in " + t, t);
    }
}
