package dev.outpost.bench.load.mqtt;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttSubAckMessage;
import io.netty.handler.codec.mqtt.MqttVersion;
import io.netty.handler.timeout.IdleStateEvent;

import dev.outpost.agent.mqtt.Requester;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.ProtocolException;
import dev.outpost.mqtt.protocol.Response;
import dev.outpost.mqtt.protocol.Topics;

/**
 * A device's MQTT 5 session for the load generator: what the agent's Paho {@code ApplianceClient} does (clean
 * start, subscribe to its response and command topics, requests by correlation data at the agent's QoS), on a Netty event
 * loop shared by every simulated device. Paho starts about four threads per client, which caps one JVM near a
 * thousand devices; here ten thousand sessions cost ten thousand sockets and no threads. Callers block in
 * {@link #request} on their own (pooled) threads, as the agent does.
 */
public final class MqttSession implements Requester, AutoCloseable {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final HexFormat HEX = HexFormat.of();
    static final int KEEP_ALIVE_SECONDS = 30;

    private final String deviceId;
    private final String clientId;
    // Through a site broker without an SVID: the enrollment topics under our own client id (docs/protocol.md).
    private final boolean enrolling;
    // As the agent's Addressing.requestQos: 0 to the embedded endpoint (client id = device id), 1 through a broker.
    private final MqttQoS requestQos;
    private final Topics topics;
    private final Codec codec;
    private final Duration timeout;
    private final Map<String, CompletableFuture<byte[]>> pending = new ConcurrentHashMap<>();
    private final CompletableFuture<Void> connected = new CompletableFuture<>();
    private final CompletableFuture<Void> subscribed = new CompletableFuture<>();
    private final CompletableFuture<String> lost = new CompletableFuture<>();
    private final AtomicInteger packetIds = new AtomicInteger();
    private final Map<Integer, CompletableFuture<Void>> subAcks = new ConcurrentHashMap<>();
    private volatile java.util.function.BiConsumer<byte[], Long> bundleListener;
    private volatile Channel channel;

    MqttSession(String deviceId, String clientId, boolean enrolling, Topics topics, Codec codec, Duration timeout) {
        this.deviceId = deviceId;
        this.clientId = clientId;
        this.enrolling = enrolling;
        this.requestQos = clientId.equals(deviceId) ? MqttQoS.AT_MOST_ONCE : MqttQoS.AT_LEAST_ONCE;
        this.topics = topics;
        this.codec = codec;
        this.timeout = timeout;
    }

    /** Completes with a reason when the connection drops. */
    public CompletableFuture<String> lost() {
        return lost;
    }

    public boolean isConnected() {
        Channel c = channel;
        return c != null && c.isActive() && subscribed.isDone() && !subscribed.isCompletedExceptionally() && !lost.isDone();
    }

    void attach(Channel c) {
        this.channel = c;
        MqttProperties none = MqttProperties.NO_PROPERTIES;
        c.writeAndFlush(MqttMessageBuilders.connect().clientId(clientId).protocolVersion(MqttVersion.MQTT_5)
                .cleanSession(true).keepAlive(KEEP_ALIVE_SECONDS).properties(none).build());
    }

    private String response() {
        return enrolling ? topics.enrollmentResponse(clientId, deviceId) : topics.response(deviceId);
    }

    /** Waits for CONNACK and SUBACK; fails with the broker's reason. */
    void awaitReady() throws TimeoutException, ProtocolException {
        await(subscribed.thenApply(v -> new byte[0]), "connect");
    }

    @Override
    public <T> T request(Kind kind, Object message, Class<T> replyType) throws ProtocolException, TimeoutException {
        byte[] correlation = new byte[16];
        RANDOM.nextBytes(correlation);
        String key = HEX.formatHex(correlation);
        CompletableFuture<byte[]> reply = new CompletableFuture<>();
        pending.put(key, reply);
        try {
            MqttProperties props = new MqttProperties();
            props.add(new MqttProperties.StringProperty(MqttProperties.MqttPropertyType.RESPONSE_TOPIC.value(),
                    response()));
            props.add(new MqttProperties.BinaryProperty(MqttProperties.MqttPropertyType.CORRELATION_DATA.value(),
                    correlation));
            Channel c = channel;
            if (c == null || lost.isDone()) {
                throw new TimeoutException(kind.wire() + ": not connected (" + lost.getNow("never connected") + ")");
            }
            c.writeAndFlush(MqttMessageBuilders.publish().topicName(enrolling
                    ? topics.enrollmentRequest(clientId, deviceId, kind) : topics.request(deviceId, kind))
                    .qos(requestQos).messageId(requestQos == MqttQoS.AT_MOST_ONCE ? 0 : nextPacketId()).retained(false)
                    .payload(Unpooled.wrappedBuffer(codec.encode(message))).properties(props).build());
            Response r = codec.decodeResponse(await(reply, kind.wire()));
            return codec.body(r, replyType);
        } finally {
            pending.remove(key);
        }
    }

    /**
     * Subscribes to the site bundle (QoS 1), as the agent's {@code ApplianceClient.followSiteBundle} does once
     * connected with its SVID; {@code listener} gets each bundle message's payload and System.nanoTime() at its
     * arrival, on the event loop. Returns once the subscription is acknowledged (the retained bundle follows).
     */
    public void followSiteBundle(java.util.function.BiConsumer<byte[], Long> listener)
            throws TimeoutException, ProtocolException {
        if (enrolling) {
            throw new IllegalStateException("an enrollment session cannot read the site bundle");
        }
        this.bundleListener = listener;
        Channel c = channel;
        if (c == null || lost.isDone()) {
            throw new TimeoutException("subscribe: not connected (" + lost.getNow("never connected") + ")");
        }
        int id = nextPacketId();
        CompletableFuture<Void> ack = new CompletableFuture<>();
        subAcks.put(id, ack);
        c.writeAndFlush(MqttMessageBuilders.subscribe().messageId(id)
                .addSubscription(MqttQoS.AT_LEAST_ONCE, topics.siteBundle()).build());
        await(ack.thenApply(v -> new byte[0]), "subscribe " + topics.siteBundle());
    }

    private byte[] await(CompletableFuture<byte[]> f, String what) throws TimeoutException, ProtocolException {
        Object o;
        try {
            o = CompletableFuture.anyOf(f, lost).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TimeoutException(what + ": interrupted");
        } catch (ExecutionException e) {
            throw new ProtocolException(ErrorCode.INTERNAL, what + ": " + e.getCause().getMessage());
        } catch (TimeoutException e) {
            throw new TimeoutException(what + ": no reply within " + timeout.toSeconds() + " s");
        }
        if (o instanceof byte[] b) {
            return b;
        }
        throw new TimeoutException(what + ": connection lost before the reply (" + lost.getNow("?") + ")");
    }

    private int nextPacketId() {
        // 1..65535; a wrap-around is harmless here: at most a few packets are in flight per session.
        return packetIds.updateAndGet(i -> i >= 65535 ? 1 : i + 1);
    }

    void fail(String why) {
        lost.complete(why);
        connected.completeExceptionally(new IllegalStateException(why));
        subscribed.completeExceptionally(new IllegalStateException(why));
    }

    @Override
    public void close() {
        Channel c = channel;
        lost.complete("closed");
        if (c != null && c.isActive()) {
            c.writeAndFlush(MqttMessage.DISCONNECT).addListener(f -> c.close());
        }
    }

    /** The session's end of the pipeline: CONNACK, SUBACK, PUBLISH (with PUBACK), keep-alive. */
    final class Handler extends SimpleChannelInboundHandler<MqttMessage> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, MqttMessage msg) {
            if (msg.decoderResult().isFailure()) {
                fail("undecodable packet: " + msg.decoderResult().cause());
                ctx.close();
                return;
            }
            switch (msg.fixedHeader().messageType()) {
                case CONNACK -> onConnAck(ctx, (MqttConnAckMessage) msg);
                case SUBACK -> onSubAck((MqttSubAckMessage) msg);
                case PUBLISH -> onPublish(ctx, (MqttPublishMessage) msg);
                case DISCONNECT -> {
                    fail("disconnected by the server");
                    ctx.close();
                }
                default -> { } // PUBACK, PINGRESP
            }
        }

        private void onConnAck(ChannelHandlerContext ctx, MqttConnAckMessage m) {
            MqttConnectReturnCode rc = m.variableHeader().connectReturnCode();
            if (rc != MqttConnectReturnCode.CONNECTION_ACCEPTED) {
                fail("CONNACK " + rc);
                ctx.close();
                return;
            }
            connected.complete(null);
            int id = nextPacketId();
            subAcks.put(id, subscribed);
            var sub = MqttMessageBuilders.subscribe().messageId(id)
                    .addSubscription(requestQos, response());
            if (!enrolling) {
                sub.addSubscription(MqttQoS.AT_LEAST_ONCE, topics.command(deviceId));
            }
            ctx.writeAndFlush(sub.build());
        }

        private void onSubAck(MqttSubAckMessage m) {
            CompletableFuture<Void> f = subAcks.remove(m.variableHeader().messageId());
            for (int code : m.payload().reasonCodes()) {
                if (code > 2) {
                    if (f == null || f == subscribed) {
                        fail("SUBACK refused a subscription: reason " + code);
                    } else {
                        f.completeExceptionally(new IllegalStateException("SUBACK refused a subscription: reason " + code));
                    }
                    return;
                }
            }
            if (f != null) {
                f.complete(null);
            }
        }

        private void onPublish(ChannelHandlerContext ctx, MqttPublishMessage m) {
            if (m.fixedHeader().qosLevel() == MqttQoS.AT_LEAST_ONCE) {
                ctx.writeAndFlush(new MqttMessage(new MqttFixedHeader(MqttMessageType.PUBACK, false, MqttQoS.AT_MOST_ONCE,
                        false, 0), MqttMessageIdVariableHeader.from(m.variableHeader().packetId())));
            }
            long arrived = System.nanoTime();
            var bundle = bundleListener;
            if (bundle != null && m.variableHeader().topicName().equals(topics.siteBundle())) {
                bundle.accept(ByteBufUtil.getBytes(m.payload()), arrived);
                return;
            }
            if (!m.variableHeader().topicName().equals(response())) {
                return; // commands: the load generator's devices have no use for them
            }
            MqttProperties.MqttProperty<?> corr = m.variableHeader().properties()
                    .getProperty(MqttProperties.MqttPropertyType.CORRELATION_DATA.value());
            if (corr != null && corr.value() instanceof byte[] b) {
                CompletableFuture<byte[]> f = pending.get(HEX.formatHex(b));
                if (f != null) {
                    f.complete(ByteBufUtil.getBytes(m.payload()));
                }
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof IdleStateEvent) {
                ctx.writeAndFlush(MqttMessage.PINGREQ);
            } else {
                super.userEventTriggered(ctx, evt);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            fail(cause.getClass().getSimpleName() + ": " + cause.getMessage());
            ctx.close();
        }
    }
}
