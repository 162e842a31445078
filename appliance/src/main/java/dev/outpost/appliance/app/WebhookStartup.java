package dev.outpost.appliance.app;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;

import javax.net.ssl.SSLContext;

import dev.outpost.appliance.admin.AdminApi;
import dev.outpost.appliance.attest.WebhookDelivery;
import dev.outpost.appliance.config.ApplianceConfig;
import dev.outpost.appliance.store.Database;
import dev.outpost.appliance.store.WebhookQueue;
import dev.outpost.appliance.timers.Periodic;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;

/** The revocation webhook from the configuration: its delivery, its timer, its metrics and its line in status. */
final class WebhookStartup {
    private static final Duration TRY_TIMEOUT = Duration.ofSeconds(10);
    // A revocation reaches the receiver within about a round; waiting events after a restart go at once. The
    // delivery itself spaces its tries while the receiver is down.
    private static final Duration ROUND = Duration.ofSeconds(1);

    private WebhookStartup() {
    }

    /**
     * The delivery, or null when no webhook is configured (events left waiting for an earlier one are dropped).
     * A caFile without a certificate or an authorizationFile others can read stops the start, rather than failing
     * every delivery after it.
     */
    static WebhookDelivery open(ApplianceConfig.Webhook w, Database db, Clock clock) {
        WebhookQueue queue = new WebhookQueue(db);
        if (w.url() == null) {
            WebhookDelivery.discardUnconfigured(queue);
            return null;
        }
        SSLContext tls = null;
        if (w.caFile() != null) {
            try {
                tls = WebhookDelivery.trusting(w.caFile());
            } catch (IOException | GeneralSecurityException e) {
                throw new IllegalStateException("attestation.webhook.caFile " + w.caFile() + ": " + e.getMessage(), e);
            }
        }
        if (w.authorizationFile() != null) {
            try {
                WebhookDelivery.authorization(w.authorizationFile());
            } catch (IOException e) {
                throw new IllegalStateException("attestation.webhook.authorizationFile: " + e.getMessage(), e);
            }
        }
        return new WebhookDelivery(queue, w.url(), w.allowInsecureHttp(), tls, w.authorizationFile(), clock,
                TRY_TIMEOUT);
    }

    static void start(WebhookDelivery webhook, Vertx vertx, MeterRegistry registry, AdminApi api) {
        if (webhook == null) {
            return;
        }
        webhook.bind(registry);
        api.withWebhook(webhook::status);
        Periodic.nowAndEvery(vertx, ROUND, "revocation webhook", webhook::drain);
    }
}
