package dev.outpost.agent.workload;

import java.io.IOException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.grpc.Attributes;
import io.grpc.netty.shaded.io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiationEvent;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiator;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiators;
import io.grpc.netty.shaded.io.grpc.netty.ProtocolNegotiationEvent;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.util.AsciiString;

/**
 * Plaintext HTTP/2 over the Unix socket, with one step added to the handshake: the peer's credentials are read from
 * the accepted channel ({@code SO_PEERCRED} via Netty's epoll channel) and put into the transport attributes, where
 * every call on that connection finds them ({@link CallerInterceptor} moves them into the call's Context).
 *
 * <p>Why this way: gRPC gives services no access to the Netty channel, and a ServerTransportFilter sees only the
 * attributes, not the channel. A protocol negotiator is the one place where gRPC lets a handler touch the channel
 * before the transport's attributes are final; grpc-java marks that API Internal (stable enough: the same
 * methods have existed since 1.2x), so it is kept to this one class. The credentials are those of the process that
 * called {@code connect()}, taken by the kernel: a client cannot state them.
 */
final class PeerCredentialsNegotiator implements InternalProtocolNegotiator.ProtocolNegotiator {
    private static final Logger LOG = LoggerFactory.getLogger(PeerCredentialsNegotiator.class);
    static final Attributes.Key<PeerCredentials> PEER = Attributes.Key.create("outpost.workload.peer");
    /** Open connections at most: each costs a few KiB and a file descriptor, and any local process may connect. */
    static final int MAX_CONNECTIONS = 1024;

    private final ProcStat procStat;
    private final int maxConnections;
    private final java.util.concurrent.atomic.AtomicInteger open = new java.util.concurrent.atomic.AtomicInteger();

    PeerCredentialsNegotiator(ProcStat procStat, int maxConnections) {
        this.procStat = procStat;
        this.maxConnections = maxConnections;
    }

    int open() {
        return open.get();
    }

    @Override
    public AsciiString scheme() {
        return AsciiString.of("http");
    }

    @Override
    public ChannelHandler newHandler(GrpcHttp2ConnectionHandler grpcHandler) {
        ChannelHandler grpc = InternalProtocolNegotiators.grpcNegotiationHandler(grpcHandler);
        return InternalProtocolNegotiators.waitUntilActiveHandler(
                new PeerHandler(grpc, procStat, open, maxConnections, grpcHandler.getNegotiationLogger()), grpcHandler.getNegotiationLogger());
    }

    @Override
    public void close() {
    }

    /** Reads the credentials once the channel is active, adds them to the negotiation event, hands over to gRPC. */
    private static final class PeerHandler extends InternalProtocolNegotiators.ProtocolNegotiationHandler {
        private final ProcStat procStat;
        private final java.util.concurrent.atomic.AtomicInteger open;
        private final int max;

        PeerHandler(ChannelHandler next, ProcStat procStat, java.util.concurrent.atomic.AtomicInteger open, int max,
                io.grpc.ChannelLogger logger) {
            super(next, "outpost-peer-credentials", logger);
            this.procStat = procStat;
            this.open = open;
            this.max = max;
        }

        @Override
        protected void protocolNegotiationEventTriggered(ChannelHandlerContext ctx) {
            if (open.incrementAndGet() > max) {
                open.decrementAndGet();
                LOG.warn("Workload API: {} connections open already, one more refused", max);
                ctx.close();
                return;
            }
            ctx.channel().closeFuture().addListener(f -> open.decrementAndGet());
            if (!(ctx.channel() instanceof EpollDomainSocketChannel ch)) {
                // Only the epoll Unix socket channel can say who the peer is: without that, no call is served.
                LOG.warn("Workload API connection on {}: no peer credentials, closed", ctx.channel().getClass());
                ctx.close();
                return;
            }
            io.grpc.netty.shaded.io.netty.channel.unix.PeerCredentials pc;
            try {
                pc = ch.peerCredentials();
            } catch (IOException e) {
                LOG.warn("Workload API connection: peer credentials unreadable ({}), closed", e.getMessage());
                ctx.close();
                return;
            }
            int[] gids = pc.gids();
            int gid = gids.length > 0 ? gids[0] : -1;
            PeerCredentials peer = new PeerCredentials(pc.pid(), pc.uid(), gid, procStat.startTime(pc.pid()));
            ProtocolNegotiationEvent event = getProtocolNegotiationEvent();
            Attributes attrs = InternalProtocolNegotiationEvent.getAttributes(event).toBuilder()
                    .set(PEER, peer).build();
            replaceProtocolNegotiationEvent(InternalProtocolNegotiationEvent.withAttributes(event, attrs));
            fireProtocolNegotiationEvent(ctx);
        }
    }
}
