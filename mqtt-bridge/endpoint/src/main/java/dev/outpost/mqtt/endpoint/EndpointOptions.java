package dev.outpost.mqtt.endpoint;

import java.time.Duration;
import java.util.Objects;

import dev.outpost.mqtt.protocol.Limits;
import dev.outpost.mqtt.protocol.Topics;

/**
 * Configuration of the MQTT endpoint. Start from {@link #of} and change what differs with the {@code with…} methods.
 *
 * @param host                     address to bind
 * @param port                     0 binds an ephemeral port; {@link MqttEndpointServer#start} reports the bound one
 * @param certificateChainPem      the server's certificate, then its intermediates
 * @param privateKeyPem            the server's key (PKCS#8 or PKCS#1 PEM)
 * @param trustAnchorsPem          the site CA bundle client SVIDs must chain to; replaceable at runtime
 * @param trustDomain              e.g. {@code outpost.test}; SVIDs of other trust domains are refused
 * @param maxConnections           connections held at once; more are refused with QUOTA_EXCEEDED
 * @param unauthenticatedPerDevice requests a client without SVID may make per device id
 * @param unauthenticatedGlobal    requests all clients without SVID may make together (and, separately, all
 *                                 clients without SVID whose device id the site knows)
 * @param authenticatedPerDevice   requests a device with its SVID may make
 * @param responseCacheSize        replies kept for repeated requests
 * @param responseCacheTtl         how long a reply is kept
 * @param maxInFlightPerConnection requests of one connection the handler may work on at once
 * @param maxKeepAliveSeconds      a client asking for no keep-alive or a longer one gets this one
 */
public record EndpointOptions(String host, int port, String certificateChainPem, String privateKeyPem,
        String trustAnchorsPem, String trustDomain, Topics topics, Limits limits, int maxConnections,
        RateLimit unauthenticatedPerDevice, RateLimit unauthenticatedGlobal, RateLimit authenticatedPerDevice,
        int responseCacheSize, Duration responseCacheTtl, int maxInFlightPerConnection, int maxKeepAliveSeconds) {

    public static final int DEFAULT_PORT = 8883;

    public EndpointOptions {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(certificateChainPem, "certificateChainPem");
        Objects.requireNonNull(privateKeyPem, "privateKeyPem");
        Objects.requireNonNull(trustAnchorsPem, "trustAnchorsPem");
        Objects.requireNonNull(topics, "topics");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(unauthenticatedPerDevice, "unauthenticatedPerDevice");
        Objects.requireNonNull(unauthenticatedGlobal, "unauthenticatedGlobal");
        Objects.requireNonNull(authenticatedPerDevice, "authenticatedPerDevice");
        Objects.requireNonNull(responseCacheTtl, "responseCacheTtl");
        if (trustDomain == null || !trustDomain.matches("[a-z0-9.\\-_]{1,255}")) {
            throw new IllegalArgumentException("trust domain '" + trustDomain + "' is not a SPIFFE trust domain name");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port);
        }
        if (maxConnections < 1 || responseCacheSize < 1 || maxInFlightPerConnection < 1 || maxKeepAliveSeconds < 1
                || responseCacheTtl.isNegative() || responseCacheTtl.isZero()) {
            throw new IllegalArgumentException("connection, cache, in-flight and keep-alive limits must be positive");
        }
    }

    /** Defaults: all interfaces, port 8883, default topics and limits, 10 000 connections, 5 enrollment requests a
     * minute per device and 600 in all (600 more for known devices), 1 200 requests at once then 10 a second per device
     * with an SVID, 10 000 cached replies for 10 minutes, 8 requests in flight per connection,
     * keep-alive at most 5 minutes. */
    public static EndpointOptions of(String certificateChainPem, String privateKeyPem, String trustAnchorsPem,
            String trustDomain) {
        return new EndpointOptions("0.0.0.0", DEFAULT_PORT, certificateChainPem, privateKeyPem, trustAnchorsPem,
                trustDomain, new Topics(), Limits.DEFAULT, 10_000, new RateLimit(5, Duration.ofMinutes(1)),
                new RateLimit(600, Duration.ofMinutes(1)), RateLimiter.defaultAuthenticated(), 10_000, Duration.ofMinutes(10), 8, 300);
    }

    public EndpointOptions withListen(String host, int port) {
        return new EndpointOptions(host, port, certificateChainPem, privateKeyPem, trustAnchorsPem, trustDomain, topics,
                limits, maxConnections, unauthenticatedPerDevice, unauthenticatedGlobal, authenticatedPerDevice, responseCacheSize,
                responseCacheTtl, maxInFlightPerConnection, maxKeepAliveSeconds);
    }

    public EndpointOptions withProtocol(Topics topics, Limits limits) {
        return new EndpointOptions(host, port, certificateChainPem, privateKeyPem, trustAnchorsPem, trustDomain, topics,
                limits, maxConnections, unauthenticatedPerDevice, unauthenticatedGlobal, authenticatedPerDevice, responseCacheSize,
                responseCacheTtl, maxInFlightPerConnection, maxKeepAliveSeconds);
    }

    public EndpointOptions withMaxConnections(int maxConnections) {
        return new EndpointOptions(host, port, certificateChainPem, privateKeyPem, trustAnchorsPem, trustDomain, topics,
                limits, maxConnections, unauthenticatedPerDevice, unauthenticatedGlobal, authenticatedPerDevice, responseCacheSize,
                responseCacheTtl, maxInFlightPerConnection, maxKeepAliveSeconds);
    }

    public EndpointOptions withUnauthenticatedRates(RateLimit perDevice, RateLimit global) {
        return new EndpointOptions(host, port, certificateChainPem, privateKeyPem, trustAnchorsPem, trustDomain, topics,
                limits, maxConnections, perDevice, global, authenticatedPerDevice, responseCacheSize, responseCacheTtl,
                maxInFlightPerConnection, maxKeepAliveSeconds);
    }

    public EndpointOptions withAuthenticatedRate(RateLimit perDevice) {
        return new EndpointOptions(host, port, certificateChainPem, privateKeyPem, trustAnchorsPem, trustDomain, topics,
                limits, maxConnections, unauthenticatedPerDevice, unauthenticatedGlobal, perDevice, responseCacheSize,
                responseCacheTtl, maxInFlightPerConnection, maxKeepAliveSeconds);
    }

    public EndpointOptions withResponseCache(int size, Duration ttl) {
        return new EndpointOptions(host, port, certificateChainPem, privateKeyPem, trustAnchorsPem, trustDomain, topics,
                limits, maxConnections, unauthenticatedPerDevice, unauthenticatedGlobal, authenticatedPerDevice, size, ttl,
                maxInFlightPerConnection, maxKeepAliveSeconds);
    }

    public EndpointOptions withConnectionLimits(int maxInFlightPerConnection, int maxKeepAliveSeconds) {
        return new EndpointOptions(host, port, certificateChainPem, privateKeyPem, trustAnchorsPem, trustDomain, topics,
                limits, maxConnections, unauthenticatedPerDevice, unauthenticatedGlobal, authenticatedPerDevice, responseCacheSize,
                responseCacheTtl, maxInFlightPerConnection, maxKeepAliveSeconds);
    }

    /** The largest MQTT packet accepted: above the payload limit, so an oversized request still gets TOO_LARGE. */
    public int maxPacketBytes() {
        return limits.maxPayloadBytes() + Math.max(8 * 1024, limits.maxPayloadBytes() / 4);
    }

    @Override
    public String toString() {
        // never the private key
        return "EndpointOptions[" + host + ":" + port + ", td=" + trustDomain + ", prefix=" + topics.prefix()
                + ", maxConnections=" + maxConnections + "]";
    }
}
