package dev.outpost.appliance.app;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;

import dev.outpost.appliance.attest.Quarantine;
import dev.outpost.mqtt.endpoint.DeviceChannel;
import dev.outpost.mqtt.protocol.Topics;

/**
 * What the devices' side does with a signed revocation: publishes it to every device, then disconnects the revoked
 * one. The endpoint is set once it is built (the revocations are wired before it); until then nothing is sent.
 */
final class RevocationNotice implements BiConsumer<String, byte[]> {
    private final AtomicReference<DeviceChannel> endpoint = new AtomicReference<>();
    private final Topics topics;
    private final Quarantine quarantine;

    RevocationNotice(Topics topics, Quarantine quarantine) {
        this.topics = topics;
        this.quarantine = quarantine;
    }

    void endpoint(DeviceChannel e) {
        endpoint.set(e);
    }

    @Override
    public void accept(String deviceId, byte[] event) {
        DeviceChannel e = endpoint.get();
        if (e == null) {
            return;
        }
        e.publishSite(topics.siteRevocations(), event, false);
        // A moment's grace so the device receives the verdict that explains the disconnect; skipped when an operator
        // cleared the device meanwhile (it may already be connected again, legitimately).
        boolean held = quarantine.holds(deviceId);
        CompletableFuture.delayedExecutor(1, TimeUnit.SECONDS).execute(() -> {
            if (!held || quarantine.holds(deviceId)) {
                e.disconnect(deviceId, "identity revoked");
            }
        });
    }
}
