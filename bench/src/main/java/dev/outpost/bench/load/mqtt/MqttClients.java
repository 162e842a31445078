package dev.outpost.bench.load.mqtt;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

import javax.net.ssl.SSLException;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.timeout.IdleStateHandler;

import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.ProtocolException;
import dev.outpost.mqtt.protocol.Topics;

/** Opens the simulated devices' MQTT sessions, all on one small event loop group. */
public final class MqttClients implements AutoCloseable {
    private static final int MAX_PACKET = 1 << 20;

    private final EventLoopGroup group;
    private final Topics topics;
    private final Codec codec;
    private final Duration timeout;

    public MqttClients(int threads, Topics topics, Codec codec, Duration timeout) {
        this.group = new NioEventLoopGroup(threads);
        this.topics = topics;
        this.codec = codec;
        this.timeout = timeout;
    }

    /**
     * A client TLS context on BoringSSL (the generator shares the box with the appliance, so its handshakes
     * must be cheap), trusting {@code anchors}, presenting {@code key} and {@code chain} when given.
     */
    public static SslContext tls(List<X509Certificate> anchors, PrivateKey key, List<X509Certificate> chain)
            throws SSLException {
        SslContextBuilder b = SslContextBuilder.forClient()
                .sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK)
                .trustManager(anchors.toArray(new X509Certificate[0]));
        if (key != null) {
            // Netty puts the key in an in-memory key store to hand it over; the default PKCS12 protects it with
            // PBKDF2 (10,000 rounds, twice: stored and read back), 12-40 ms of the generator's CPU per context, two
            // contexts per device enrolled, on the cores the appliance under test shares. JKS's protection is cheap.
            b.keyManager(key, chain.toArray(new X509Certificate[0])).keyStoreType("JKS");
        }
        return b.build();
    }

    /**
     * Connects over TLS (with the client certificate the context holds, if any), sends CONNECT and subscribes;
     * returns once the broker or appliance has accepted both.
     */
    public MqttSession connect(String host, int port, String deviceId, SslContext tls)
            throws TimeoutException, ProtocolException, InterruptedException, java.net.ConnectException {
        return connect(host, port, deviceId, deviceId, false, tls);
    }

    /**
     * As {@link #connect(String, int, String, SslContext)} with the client id a site broker needs
     * ({@code BrokerClientIds}) and, when {@code enrolling}, its enrollment topics under that client id.
     */
    public MqttSession connect(String host, int port, String deviceId, String clientId, boolean enrolling,
            SslContext tls) throws TimeoutException, ProtocolException, InterruptedException, java.net.ConnectException {
        MqttSession session = new MqttSession(deviceId, clientId, enrolling, topics, codec, timeout);
        ChannelFuture f = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) timeout.toMillis())
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        SslHandler ssl = tls.newHandler(ch.alloc(), host, port);
                        ssl.setHandshakeTimeoutMillis(timeout.toMillis());
                        ch.pipeline().addLast(ssl, new MqttDecoder(MAX_PACKET), MqttEncoder.INSTANCE,
                                new IdleStateHandler(0, MqttSession.KEEP_ALIVE_SECONDS * 2 / 3, 0, TimeUnit.SECONDS),
                                session.new Handler());
                    }
                })
                .connect(host, port);
        if (!f.await(timeout.toMillis())) {
            f.channel().close();
            throw new TimeoutException("connect to " + host + ":" + port + ": no answer within " + timeout.toSeconds() + " s");
        }
        if (!f.isSuccess()) {
            throw new java.net.ConnectException("connect to " + host + ":" + port + ": " + f.cause().getMessage());
        }
        Channel ch = f.channel();
        ch.closeFuture().addListener(x -> session.fail("connection closed"));
        ch.pipeline().get(SslHandler.class).handshakeFuture().addListener(h -> {
            if (h.isSuccess()) {
                session.attach(ch);
            } else {
                session.fail("TLS handshake: " + h.cause().getMessage());
                ch.close();
            }
        });
        try {
            session.awaitReady();
        } catch (TimeoutException | ProtocolException | RuntimeException e) {
            ch.close();
            throw e;
        }
        return session;
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
