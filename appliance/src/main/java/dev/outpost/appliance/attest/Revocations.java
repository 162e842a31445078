package dev.outpost.appliance.attest;

import java.time.Clock;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.appliance.store.OutboxStore;
import dev.outpost.spiffe.SpiffeId;

/**
 * Tells the site that a device lost its identity: a revocation event (device id, SPIFFE ID, reason, time),
 * signed with the site CA key, published on the site's revocation topic and, when configured, queued for the
 * webhook ({@link WebhookDelivery}: kept until delivered). The device is disconnected by the caller.
 */
public final class Revocations {
    private static final Logger LOG = LoggerFactory.getLogger(Revocations.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final SiteCa ca;
    private final Clock clock;
    private final BiConsumer<String, byte[]> publish;
    private final WebhookDelivery webhook;
    private volatile OutboxStore outbox;

    /**
     * @param publish sends (device id, signed event) to the site's revocation topic and disconnects the device
     * @param webhook the webhook's queue, or null when none is configured
     */
    public Revocations(SiteCa ca, Clock clock, BiConsumer<String, byte[]> publish, WebhookDelivery webhook) {
        this.ca = ca;
        this.clock = clock;
        this.publish = publish;
        this.webhook = webhook;
    }

    /** The signed event for a device; the signature covers the exact bytes of {@code event}. */
    public byte[] event(String deviceId, String reason) {
        try {
            return JSON.writeValueAsBytes(signed(deviceId, reason));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private Map<String, Object> signed(String deviceId, String reason) {
        try {
            Map<String, Object> event = new LinkedHashMap<>();
            event.put("v", 1);
            event.put("deviceId", deviceId);
            event.put("spiffeId", SpiffeId.nodeId(ca.trustDomain(), deviceId).toString());
            event.put("reason", reason);
            event.put("time", clock.instant().toString());
            byte[] body = JSON.writeValueAsBytes(event);
            Map<String, Object> signed = new LinkedHashMap<>();
            signed.put("event", Base64.getEncoder().encodeToString(body));
            signed.put("alg", "ES256");
            signed.put("signature", Base64.getEncoder().encodeToString(ca.sign(body)));
            return signed;
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Revocations go to central too (a {@code device.revoked} event, never dropped): the signed event exactly as
     * devices get it. Its own transaction: publishing is not a database change, and the state change that caused it
     * was committed (with its {@code device.state} event) before.
     */
    public Revocations recordIn(OutboxStore outbox) {
        this.outbox = outbox;
        return this;
    }

    /**
     * Publishes and queues for the webhook (delivered in the background). With an outbox ({@link #recordIn}) it first
     * writes the event there. JDBC: call it from a worker, as every caller does.
     */
    public void revoke(String deviceId, String reason) {
        LOG.info("device {} loses its identity: {}", deviceId, reason);
        Map<String, Object> signed = signed(deviceId, reason);
        byte[] e;
        try {
            e = JSON.writeValueAsBytes(signed);
        } catch (java.io.IOException x) {
            throw new IllegalStateException(x);
        }
        if (outbox != null) {
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("deviceId", deviceId);
            data.put("reason", reason);
            data.put("event", signed.get("event"));
            data.put("signature", signed.get("signature"));
            try {
                outbox.appendAlone("device.revoked", clock.instant(), null, data);
            } catch (RuntimeException x) {
                // The device must still lose its identity at the site; central misses this one event (loudly).
                LOG.error("revocation of device {} not written to the outbox for central: {}", deviceId, x.toString());
            }
        }
        publish.accept(deviceId, e);
        if (webhook != null) {
            try {
                webhook.enqueue(e);
            } catch (RuntimeException x) {
                // As for the outbox: the device loses its identity at the site whatever; the receiver misses this one.
                LOG.error("revocation of device {} not queued for the webhook: {}", deviceId, x.toString());
            }
        }
    }
}
