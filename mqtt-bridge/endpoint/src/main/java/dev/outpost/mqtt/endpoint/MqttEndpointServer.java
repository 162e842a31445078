package dev.outpost.mqtt.endpoint;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.mqtt.protocol.Codec;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttProperties.MqttPropertyType;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.TrustOptions;
import io.vertx.mqtt.MqttEndpoint;
import io.vertx.mqtt.MqttServer;
import io.vertx.mqtt.MqttServerOptions;
import io.vertx.mqtt.MqttTopicSubscription;
import io.vertx.mqtt.messages.MqttPublishMessage;
import io.vertx.mqtt.messages.MqttSubscribeMessage;
import io.vertx.mqtt.messages.MqttUnsubscribeMessage;
import io.vertx.mqtt.messages.codes.MqttDisconnectReasonCode;
import io.vertx.mqtt.messages.codes.MqttSubAckReasonCode;
import io.vertx.mqtt.messages.codes.MqttUnsubAckReasonCode;

/**
 * The appliance's MQTT 5 endpoint: TLS only, client certificates requested (node SVIDs) but not required
 * (enrollment). Vert.x MQTT gives an endpoint API, not a broker, so routing, retained site messages, one connection
 * per device and the ACL are here. Devices talk only to the appliance: requests in, replies, commands and site
 * broadcasts out; nothing a device publishes reaches another device.
 * <p>
 * The API methods are thread-safe and never block; writes are carried out on each connection's event loop.
 */
public final class MqttEndpointServer implements DeviceChannel {
    private static final Logger log = LoggerFactory.getLogger(MqttEndpointServer.class);
    private static final int CONNECT_TIMEOUT_SECONDS = 20;
    private static final int MAX_CLIENT_ID_CHARS = 128;
    private static final int MAX_UNACKNOWLEDGED = 32;

    private final EndpointOptions options;
    private final TrustAnchors trustAnchors;
    private final ConnectionAuthenticator authenticator;
    private final TopicAcl acl;
    private final Codec codec;
    private final RequestHandler handler;
    private final KnownDevices known;
    private final ConnectionRegistry registry = new ConnectionRegistry();
    private final RetainedStore retained = new RetainedStore();
    private final EndpointStats stats = new EndpointStats(registry::size);

    private final ServerIdentity serverIdentity;
    private volatile Vertx vertx;
    private volatile MqttServer server;
    private volatile RequestDispatcher dispatcher;
    private volatile boolean closing;
    private volatile boolean listening;
    private long watchdog = -1;

    public MqttEndpointServer(EndpointOptions options, RequestHandler handler, ConnectionPolicy policy) {
        this(options, handler, policy, KnownDevices.NONE);
    }

    /**
     * @param known which device ids the site already knows: their requests without SVID have capacity of their own
     */
    public MqttEndpointServer(EndpointOptions options, RequestHandler handler, ConnectionPolicy policy,
            KnownDevices known) {
        this(options, handler, policy, known, java.time.Clock.systemUTC());
    }

    /**
     * @param clock the time client certificates are judged valid at: the appliance's own, which issued them
     */
    public MqttEndpointServer(EndpointOptions options, RequestHandler handler, ConnectionPolicy policy,
            KnownDevices known, java.time.Clock clock) {
        this.known = Objects.requireNonNull(known, "known");
        this.options = Objects.requireNonNull(options, "options");
        this.handler = Objects.requireNonNull(handler, "handler");
        this.trustAnchors = new TrustAnchors(options.trustAnchorsPem(), Objects.requireNonNull(clock, "clock"));
        this.serverIdentity = new ServerIdentity(options.certificateChainPem(), options.privateKeyPem());
        this.authenticator = new ConnectionAuthenticator(options.trustDomain(), Objects.requireNonNull(policy, "policy"),
                trustAnchors);
        this.acl = new TopicAcl(options.topics());
        this.codec = new Codec(options.limits());
    }

    /** With no connection policy: any device whose identity checks out may connect. */
    public MqttEndpointServer(EndpointOptions options, RequestHandler handler) {
        this(options, handler, ConnectionPolicy.ALLOW_ALL);
    }

    /** Binds and starts accepting; the future holds the bound port. */
    @Override
    public synchronized Future<Integer> start(Vertx vertx) {
        if (server != null) {
            return Future.failedFuture(new IllegalStateException("already started"));
        }
        this.vertx = vertx;
        this.closing = false;
        this.dispatcher = new RequestDispatcher(options.topics(), acl, new RequestPipeline(vertx, codec,
                new RateLimiter(options.unauthenticatedPerDevice(), options.unauthenticatedGlobal(),
                        options.authenticatedPerDevice(), known),
                new ResponseCache(options.responseCacheSize(), options.responseCacheTtl()), handler, stats,
                options.maxInFlightPerConnection()), stats);
        MqttServerOptions o = new MqttServerOptions()
                .setHost(options.host())
                .setPort(options.port())
                .setSsl(true)
                .setKeyCertOptions(KeyCertOptions.wrap(serverIdentity))
                .setTrustOptions(TrustOptions.wrap(trustAnchors))
                // requested, not required: devices enroll before they hold an SVID
                .setClientAuth(ClientAuth.REQUEST)
                .setMaxMessageSize(options.maxPacketBytes())
                .setMaxClientIdLength(MAX_CLIENT_ID_CHARS)
                .setAutoClientId(false)
                .setTimeoutOnConnect(CONNECT_TIMEOUT_SECONDS);
        if (OpenSSLEngineOptions.isAvailable()) {
            // BoringSSL: a TLS handshake with JDK 17's P-256 cost ~8 ms of CPU, half of what an enrollment costs
            // the appliance; trust decisions stay with TrustAnchors either way.
            o.setSslEngineOptions(new OpenSSLEngineOptions());
        } else {
            log.warn("BoringSSL (netty-tcnative) did not load, TLS runs on the JDK's engine: {}",
                    io.netty.handler.ssl.OpenSsl.unavailabilityCause() == null ? "unknown cause"
                            : io.netty.handler.ssl.OpenSsl.unavailabilityCause().getMessage());
        }
        MqttServer s = MqttServer.create(vertx, o);
        s.endpointHandler(this::onConnect);
        // what fails before CONNECT (not MQTT, no CONNECT in time) is a refusal too; TLS failures TrustAnchors logs
        s.exceptionHandler(t -> log.debug("connection dropped before CONNECT: {}", t.toString()));
        this.server = s;
        long period = Math.max(1000, Math.min(5000, options.maxKeepAliveSeconds() * 250L));
        watchdog = vertx.setPeriodic(period, t -> closeIdle());
        return s.listen().map(MqttServer::actualPort).onSuccess(p -> {
            listening = true;
            log.info("MQTT endpoint listening on {}:{} ({})", options.host(), p, options.trustDomain());
        });
    }

    /** Sends DISCONNECT (server shutting down) to every device, then stops listening. */
    @Override
    public synchronized Future<Void> close() {
        closing = true;
        listening = false;
        MqttServer s = server;
        if (s == null) {
            return Future.succeededFuture();
        }
        vertx.cancelTimer(watchdog);
        List<Future<Void>> gone = new ArrayList<>();
        for (DeviceConnection c : registry.all()) {
            gone.add(c.disconnect(MqttDisconnectReasonCode.SERVER_SHUTTING_DOWN, "appliance shutting down"));
        }
        server = null;
        return Future.join(gone).transform(ar -> s.close());
    }

    /** New anchors for client SVIDs; applies to handshakes from now on. A bad bundle throws and changes nothing. */
    public void updateTrust(String trustAnchorsPem) {
        trustAnchors.update(trustAnchorsPem);
        log.info("client trust anchors replaced; new connections use them");
    }

    /**
     * A new server certificate (chain PEM, leaf first) and key; handshakes from now on present it, connections up keep
     * theirs. Unusable input throws and changes nothing.
     */
    public void updateServerCertificate(String certificateChainPem, String privateKeyPem) {
        serverIdentity.update(certificateChainPem, privateKeyPem);
        log.info("server certificate replaced; new connections get it");
    }

    /** @return whether the device is connected and subscribed to its command topic (not that it got it) */
    @Override
    public boolean sendCommand(String deviceId, byte[] payload) {
        checkPayload(payload);
        DeviceConnection c = registry.get(deviceId);
        return c != null && c.publish(options.topics().command(deviceId), payload, false, MqttProperties.NO_PROPERTIES);
    }

    /**
     * Broadcasts on a site topic ({@code <prefix>/site/...}) to the connections subscribed to it; a retained message
     * is also kept and handed to each later subscriber (an empty retained payload clears it).
     *
     * @return the number of connections it was handed to
     */
    @Override
    public int publishSite(String topic, byte[] payload, boolean retain) {
        if (!acl.isSiteTopic(topic)) {
            throw new IllegalArgumentException("not a site topic under " + options.topics().prefix() + "/site/: " + topic);
        }
        checkPayload(payload);
        if (retain) {
            retained.put(topic, payload);
        }
        int n = 0;
        for (DeviceConnection c : registry.all()) {
            if (c.publish(topic, payload, retain, MqttProperties.NO_PROPERTIES)) {
                n++;
            }
        }
        return n;
    }

    public int publishRetained(String topic, byte[] payload) {
        return publishSite(topic, payload, true);
    }

    /** Closes the device's connection with an MQTT 5 DISCONNECT (administrative action) carrying the reason. */
    @Override
    public boolean disconnect(String deviceId, String reason) {
        DeviceConnection c = registry.get(deviceId);
        if (c == null) {
            return false;
        }
        log.info("disconnecting device {}: {}", deviceId, reason);
        c.disconnect(MqttDisconnectReasonCode.ADMINISTRATIVE_ACTION, reason);
        return true;
    }

    public Set<String> connectedDevices() {
        return registry.deviceIds();
    }

    @Override
    public EndpointStats stats() {
        return stats;
    }

    @Override
    public Optional<String> unavailable() {
        if (closing) {
            return Optional.of("the device endpoint is closed (shutting down)");
        }
        return listening ? Optional.empty()
                : Optional.of("the device endpoint is not listening on " + options.host() + ":" + options.port());
    }

    private void checkPayload(byte[] payload) {
        if (payload.length > options.limits().maxPayloadBytes()) {
            throw new IllegalArgumentException(payload.length + " bytes, over the protocol's payload limit");
        }
    }

    // ---- connection lifecycle, on the connection's event loop

    private void onConnect(MqttEndpoint ep) {
        String remote = String.valueOf(ep.remoteAddress());
        if (closing) {
            refuse(ep, remote, MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE_5, "shutting down");
            return;
        }
        ConnectionAuthenticator.Outcome o = authenticator.authenticate(ep.protocolVersion(), ep.clientIdentifier(),
                ep.sslSession());
        if (!o.accepted()) {
            refuse(ep, remote, o.refusal(), o.reason());
            return;
        }
        String id = o.deviceId();
        DeviceConnection existing = registry.get(id);
        if (existing != null && existing.authenticated() && !o.authenticated()) {
            // anyone may claim a device id without a certificate: that must not knock the real device off
            refuse(ep, remote, MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED_5,
                    "device is connected with its SVID; a connection without one may not take it over");
            return;
        }
        if (existing == null && registry.size() >= options.maxConnections()) {
            refuse(ep, remote, MqttConnectReturnCode.CONNECTION_REFUSED_QUOTA_EXCEEDED,
                    "connection limit " + options.maxConnections() + " reached");
            return;
        }
        int keepAlive = ep.keepAliveTimeSeconds();
        boolean overrideKeepAlive = keepAlive == 0 || keepAlive > options.maxKeepAliveSeconds();
        Context ctx = Vertx.currentContext();
        DeviceConnection conn = new DeviceConnection(ep, ctx, id, o.authenticated(), o.certificate(),
                new SubscriptionRegistry(acl), overrideKeepAlive ? options.maxKeepAliveSeconds() : 0,
                Math.min(MAX_UNACKNOWLEDGED, receiveMaximum(ep)));
        if (ep.will() != null && ep.will().isWillFlag()) {
            log.debug("device {}: will message ignored; the endpoint routes nothing between devices", id);
        }
        ep.publishAutoAck(false);
        ep.subscriptionAutoAck(false);
        ep.publishHandler(m -> onPublish(conn, m));
        ep.subscribeHandler(m -> onSubscribe(conn, m));
        ep.unsubscribeHandler(m -> onUnsubscribe(conn, m));
        ep.publishAcknowledgeHandler(conn::acknowledged);
        ep.pingHandler(v -> conn.seen());
        ep.exceptionHandler(t -> onConnectionError(conn, t));
        ep.closeHandler(v -> {
            if (registry.remove(conn)) {
                log.debug("device {} disconnected ({})", id, conn.remote());
            }
        });
        ep.accept(false, connack(overrideKeepAlive));
        DeviceConnection old = registry.register(conn);
        stats.connectionAccepted();
        log.debug("device {} connected from {} ({})", id, remote,
                o.authenticated() ? "node SVID" : "no certificate: enrollment only");
        if (old != null && old != conn) {
            stats.takeover();
            log.info("device {}: new connection from {} takes over the one from {}", id, remote, old.remote());
            old.disconnect(MqttDisconnectReasonCode.SESSION_TAKEN_OVER, "another connection took over this device id");
        }
    }

    /** The client's Receive Maximum (MQTT 5: 65535 when absent). */
    private static int receiveMaximum(MqttEndpoint ep) {
        MqttProperties p = ep.connectProperties();
        MqttProperties.MqttProperty<?> rm = p == null ? null : p.getProperty(MqttPropertyType.RECEIVE_MAXIMUM.value());
        return rm != null && rm.value() instanceof Integer i && i > 0 ? i : 65535;
    }

    /** What this endpoint offers, so well-behaved clients never try what would be refused. */
    private MqttProperties connack(boolean overrideKeepAlive) {
        MqttProperties p = new MqttProperties();
        p.add(new MqttProperties.IntegerProperty(MqttPropertyType.MAXIMUM_QOS.value(), 1));
        p.add(new MqttProperties.IntegerProperty(MqttPropertyType.RETAIN_AVAILABLE.value(), 0));
        p.add(new MqttProperties.IntegerProperty(MqttPropertyType.SHARED_SUBSCRIPTION_AVAILABLE.value(), 0));
        p.add(new MqttProperties.IntegerProperty(MqttPropertyType.SUBSCRIPTION_IDENTIFIER_AVAILABLE.value(), 0));
        p.add(new MqttProperties.IntegerProperty(MqttPropertyType.WILDCARD_SUBSCRIPTION_AVAILABLE.value(), 1));
        p.add(new MqttProperties.IntegerProperty(MqttPropertyType.MAXIMUM_PACKET_SIZE.value(), options.maxPacketBytes()));
        // no session state survives a connection: requests are idempotent, the device repeats them
        p.add(new MqttProperties.IntegerProperty(MqttPropertyType.SESSION_EXPIRY_INTERVAL.value(), 0));
        if (overrideKeepAlive) {
            p.add(new MqttProperties.IntegerProperty(MqttPropertyType.SERVER_KEEP_ALIVE.value(),
                    options.maxKeepAliveSeconds()));
        }
        return p;
    }

    private void refuse(MqttEndpoint ep, String remote, MqttConnectReturnCode code, String reason) {
        stats.connectionRefused();
        log.info("refused CONNECT from {} (client id {}): {} ({})", remote, DeviceIds.shortForm(ep.clientIdentifier()),
                code, reason);
        if (ep.protocolVersion() == ConnectionAuthenticator.MQTT_5) {
            MqttProperties p = new MqttProperties();
            p.add(new MqttProperties.StringProperty(MqttPropertyType.REASON_STRING.value(), reason));
            ep.reject(code, p);
        } else {
            ep.reject(code.byteValue() >= 0x80 || code.byteValue() < 0
                    ? MqttConnectReturnCode.CONNECTION_REFUSED_UNACCEPTABLE_PROTOCOL_VERSION : code);
        }
    }

    private void onPublish(DeviceConnection conn, MqttPublishMessage m) {
        conn.seen();
        if (m.qosLevel() == MqttQoS.EXACTLY_ONCE) {
            log.info("device {}: QoS 2 publish on {} refused; the endpoint offers QoS 1 at most", conn.deviceId(),
                    RequestDispatcher.printable(m.topicName()));
            conn.disconnect(MqttDisconnectReasonCode.QOS_NOT_SUPPORTED, "QoS 2 is not supported");
            return;
        }
        if (m.qosLevel() == MqttQoS.AT_LEAST_ONCE) {
            conn.endpoint().publishAcknowledge(m.messageId());
        }
        dispatcher.onPublish(conn, m);
    }

    private void onSubscribe(DeviceConnection conn, MqttSubscribeMessage m) {
        conn.seen();
        List<MqttSubAckReasonCode> codes = new ArrayList<>();
        List<String> granted = new ArrayList<>();
        for (MqttTopicSubscription s : m.topicSubscriptions()) {
            String filter = s.topicName();
            if (acl.maySubscribe(conn.deviceId(), filter)) {
                MqttQoS qos = s.qualityOfService().value() >= 1 ? MqttQoS.AT_LEAST_ONCE : MqttQoS.AT_MOST_ONCE;
                conn.subscriptions().add(filter, qos);
                codes.add(qos == MqttQoS.AT_LEAST_ONCE ? MqttSubAckReasonCode.GRANTED_QOS1
                        : MqttSubAckReasonCode.GRANTED_QOS0);
                granted.add(filter);
            } else {
                stats.subscriptionRefused();
                log.info("device {}: subscription to {} refused: NOT_AUTHORIZED (not its own topics nor a site topic)",
                        conn.deviceId(), RequestDispatcher.printable(filter));
                codes.add(MqttSubAckReasonCode.NOT_AUTHORIZED);
            }
        }
        conn.endpoint().subscribeAcknowledge(m.messageId(), codes, MqttProperties.NO_PROPERTIES);
        // retained messages follow the SUBACK, as MQTT orders them
        for (String filter : granted) {
            for (RetainedStore.Retained r : retained.matching(t -> acl.matches(filter, t))) {
                conn.publish(r.topic(), r.payload(), true, MqttProperties.NO_PROPERTIES);
            }
        }
    }

    private void onUnsubscribe(DeviceConnection conn, MqttUnsubscribeMessage m) {
        conn.seen();
        List<MqttUnsubAckReasonCode> codes = new ArrayList<>();
        for (String t : m.topics()) {
            codes.add(conn.subscriptions().remove(t) ? MqttUnsubAckReasonCode.SUCCESS
                    : MqttUnsubAckReasonCode.NO_SUBSCRIPTION_EXISTED);
        }
        conn.endpoint().unsubscribeAcknowledge(m.messageId(), codes, MqttProperties.NO_PROPERTIES);
    }

    /**
     * Netty's MQTT decoder gives up on a packet over the size limit or a malformed one and discards the rest of the
     * stream, so the connection is useless: say why and close it.
     */
    private void onConnectionError(DeviceConnection conn, Throwable t) {
        if (t instanceof TooLongFrameException) {
            log.info("device {}: packet over {} bytes; closing the connection", conn.deviceId(), options.maxPacketBytes());
            conn.disconnect(MqttDisconnectReasonCode.PACKET_TOO_LARGE,
                    "packet over " + options.maxPacketBytes() + " bytes");
        } else if (t instanceof DecoderException) {
            log.info("device {}: malformed MQTT packet ({}); closing the connection", conn.deviceId(), t.getMessage());
            conn.disconnect(MqttDisconnectReasonCode.MALFORMED_PACKET, "malformed packet");
        } else {
            log.debug("device {}: connection error: {}", conn.deviceId(), t.toString());
        }
    }

    private void closeIdle() {
        long now = System.nanoTime();
        for (DeviceConnection c : registry.all()) {
            if (c.idleTooLong(now)) {
                log.info("device {}: no packet within 1.5 x keep-alive; closing", c.deviceId());
                c.disconnect(MqttDisconnectReasonCode.KEEP_ALIVE_TIMEOUT, "keep-alive timeout");
            }
        }
    }
}
