package dev.outpost.appliance.site;

import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.spiffe.workloadapi.grpc.SpiffeWorkloadAPIGrpc;
import io.spiffe.workloadapi.grpc.Workload.X509SVIDRequest;
import io.spiffe.workloadapi.grpc.Workload.X509SVIDResponse;

/**
 * A plain FetchX509SVID stream on the agent's socket, to see how it ends: java-spiffe's clients retry on every status
 * but InvalidArgument (as the standard lets them), so they never show the end to a test.
 */
final class RawX509Stream implements AutoCloseable {
    private static final Metadata.Key<String> SECURITY_HEADER = Metadata.Key.of("workload.spiffe.io",
            Metadata.ASCII_STRING_MARSHALLER);
    private final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
    private final EpollEventLoopGroup group = new EpollEventLoopGroup(1);
    private final ManagedChannel channel;

    RawX509Stream(Path socket) {
        channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString())).eventLoopGroup(group)
                .channelType(EpollDomainSocketChannel.class).usePlaintext().build();
        Metadata m = new Metadata();
        m.put(SECURITY_HEADER, "true");
        SpiffeWorkloadAPIGrpc.newStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(m))
                .fetchX509SVID(X509SVIDRequest.getDefaultInstance(), new StreamObserver<X509SVIDResponse>() {
                    @Override
                    public void onNext(X509SVIDResponse value) {
                        events.add(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        events.add(Status.fromThrowable(t));
                    }

                    @Override
                    public void onCompleted() {
                        events.add(Status.OK);
                    }
                });
    }

    /** The next response, or the {@link Status} the stream ended with; null when nothing came in {@code seconds}. */
    Object next(long seconds) throws InterruptedException {
        return events.poll(seconds, TimeUnit.SECONDS);
    }

    /** Skips responses until the stream ends; the status it ended with (null when it did not within the limit). */
    Status end(long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            Object e = events.poll(1, TimeUnit.SECONDS);
            if (e instanceof Status s) {
                return s;
            }
        }
        return null;
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
