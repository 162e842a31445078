package dev.outpost.appliance.app;

import java.time.Duration;
import java.util.List;

import dev.outpost.appliance.attest.AttestationSettings;
import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.appliance.ca.TrustBundle;
import dev.outpost.appliance.config.ApplianceConfig;
import dev.outpost.ima.verify.ViolationHandling;
import dev.outpost.mqtt.endpoint.EndpointOptions;
import dev.outpost.mqtt.endpoint.RateLimit;
import dev.outpost.mqtt.protocol.Limits;
import dev.outpost.mqtt.protocol.Topics;
import dev.outpost.tpm.wire.PcrSelection;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsOptions;

/** The site's configuration turned into the options of the parts it starts: Vert.x, the device endpoint, the verifier. */
final class ComponentOptions {
    // A log slice per evidence message: with base64 and JSON it stays well inside the 64 KiB message limit.
    static final int EVIDENCE_CHUNK = 32 * 1024;

    private ComponentOptions() {
    }

    static Vertx vertx(PrometheusMeterRegistry registry) {
        return Vertx.vertx(new VertxOptions().setPreferNativeTransport(true)
                // A registry name of its own: Vert.x keeps backend registries by name in a JVM-wide map and closing
                // one Vert.x stops its name's registry, so two appliances in one JVM (the tests) under the default
                // name emptied each other's /metrics.
                .setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true).setMicrometerRegistry(registry)
                        .setRegistryName("outpost-" + java.util.UUID.randomUUID())));
    }

    static EndpointOptions endpoint(ApplianceConfig config, SiteCa ca, Topics topics) throws Exception {
        ServerTls.Material tls = ServerTls.issue(ca, List.of(), config.ca().ttl());
        return EndpointOptions.of(tls.certChainPem(), tls.keyPem(), TrustBundle.of(ca).pem(), config.trustDomain())
                .withListen(config.mqtt().host(), config.mqtt().port())
                .withProtocol(topics, new Limits(config.mqtt().maxPayloadBytes(), Limits.DEFAULT.maxStringChars(),
                        Limits.DEFAULT.maxDepth()))
                .withUnauthenticatedRates(
                        new RateLimit(config.enrollment().deviceRateLimitPerMinute(), Duration.ofMinutes(1)),
                        new RateLimit(config.enrollment().rateLimitPerMinute(), Duration.ofMinutes(1)));
    }

    static AttestationSettings attestation(ApplianceConfig.Attestation at) {
        return new AttestationSettings(at.interval(), at.freshness(), at.challengeTtl(), PcrSelection.parse(at.pcrs()),
                at.maxEvidenceBytes(), EVIDENCE_CHUNK, at.maxBufferedEvidenceBytes() > 0 ? at.maxBufferedEvidenceBytes()
                        : bufferedEvidenceBudget(at.maxEvidenceBytes()),
                at.failOnImaViolations() ? ViolationHandling.FAIL : ViolationHandling.COUNT);
    }

    /**
     * Evidence all devices may buffer together: a quarter of the heap, so parsing, TLS and the store keep the rest,
     * and never less than one device's maximum (or no first attestation of a large list could ever pass).
     */
    private static long bufferedEvidenceBudget(long perDevice) {
        return Math.max(perDevice, Runtime.getRuntime().maxMemory() / 4);
    }
}
