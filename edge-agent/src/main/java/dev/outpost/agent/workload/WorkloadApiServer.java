package dev.outpost.agent.workload;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;

/**
 * The Workload API's gRPC server on a Unix domain socket (Netty epoll, the transport that can read
 * {@code SO_PEERCRED}). The socket's directory, when the agent makes it, is 0755 and the socket 0666, as the Workload Endpoint standard
 * expects: any local process may ask; what it gets is decided by who the kernel says it is. A stale socket from an
 * earlier run is removed; anything else at that path (a file, a directory, a symlink) is left alone and the start fails.
 */
final class WorkloadApiServer implements AutoCloseable {
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;
    private static final int MAX_MESSAGE = 64 * 1024;
    private static final int MAX_METADATA = 8 * 1024;

    private final Path socket;
    private final Server server;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;

    private WorkloadApiServer(Path socket, Server server, EventLoopGroup boss, EventLoopGroup workers) {
        this.socket = socket;
        this.server = server;
        this.boss = boss;
        this.workers = workers;
    }

    static WorkloadApiServer start(Path socket, BindableService service, ProcStat procStat, Executor executor)
            throws IOException {
        return start(socket, service, procStat, executor, PeerCredentialsNegotiator.MAX_CONNECTIONS);
    }

    static WorkloadApiServer start(Path socket, BindableService service, ProcStat procStat, Executor executor,
            int maxConnections) throws IOException {
        if (!Epoll.isAvailable()) {
            throw new IOException("the Workload API needs Netty's epoll transport (Linux x86_64 or aarch64): "
                    + Epoll.unavailabilityCause().getMessage());
        }
        Path dir = socket.toAbsolutePath().getParent();
        if (!Files.isDirectory(dir)) {
            // Ours to make (systemd's RuntimeDirectory= makes it in the package, with the same mode).
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        removeStale(socket);
        EventLoopGroup boss = new EpollEventLoopGroup(1);
        EventLoopGroup workers = new EpollEventLoopGroup(1);
        try {
            Server server = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                    .channelType(EpollServerDomainSocketChannel.class)
                    .bossEventLoopGroup(boss)
                    .workerEventLoopGroup(workers)
                    .protocolNegotiator(new PeerCredentialsNegotiator(procStat, maxConnections))
                    .executor(executor)
                    .maxInboundMessageSize(MAX_MESSAGE)
                    .maxInboundMetadataSize(MAX_METADATA)
                    .addService(ServerInterceptors.intercept(service, new CallerInterceptor()))
                    .build()
                    .start();
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
            return new WorkloadApiServer(socket, server, boss, workers);
        } catch (IOException | RuntimeException e) {
            boss.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            workers.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw new IOException("Workload API socket " + socket + ": " + e.getMessage(), e);
        }
    }

    private static void removeStale(Path socket) throws IOException {
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        int mode = (Integer) Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if ((mode & S_IFMT) != S_IFSOCK) {
            throw new IOException("Workload API socket " + socket + ": something that is not a socket is there;"
                    + " not replacing it");
        }
        Files.delete(socket);
    }

    Path socket() {
        return socket;
    }

    @Override
    public void close() {
        server.shutdownNow();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        try {
            Files.deleteIfExists(socket);
        } catch (IOException ignored) {
            // a socket left behind is removed at the next start
        }
    }
}
