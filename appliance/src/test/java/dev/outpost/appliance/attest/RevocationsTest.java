package dev.outpost.appliance.attest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.Signature;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;

import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.appliance.store.Database;
import dev.outpost.appliance.store.WebhookQueue;
import dev.outpost.testkit.MutableClock;

/** Revocation events are signed by the site CA and reach a webhook that fails at first, through its queue. */
class RevocationsTest {

    @Test
    void plainHttpWebhookOnlyWhenExplicitlyAllowed(@TempDir Path dir) throws Exception {
        try (Database db = Database.open(dir.resolve("data"))) {
            WebhookQueue q = new WebhookQueue(db);
            Duration t = Duration.ofSeconds(5);
            assertThatThrownBy(() -> new WebhookDelivery(q, "http://siem.example/rev", false, Clock.systemUTC(), t))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be an https:// URL");
            assertThatThrownBy(() -> new WebhookDelivery(q, "ftp://siem.example/rev", true, Clock.systemUTC(), t))
                    .hasMessageContaining("must be an https:// URL");
            new WebhookDelivery(q, "https://siem.example/rev", false, Clock.systemUTC(), t);
            new WebhookDelivery(q, "http://127.0.0.1/rev", true, Clock.systemUTC(), t);
        }
    }

    @Test
    void signedEventReachesAFlakyWebhook(@TempDir Path dir) throws Exception {
        SiteCa ca = SiteCa.loadOrCreate(dir.resolve("ca"), "outpost.test", "s", Duration.ofDays(30), Clock.systemUTC());
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        AtomicInteger calls = new AtomicInteger();
        BlockingQueue<byte[]> delivered = new LinkedBlockingQueue<>();
        server.createContext("/revoked", ex -> {
            byte[] body = ex.getRequestBody().readAllBytes();
            // The first attempt finds the receiver down; the retry must still deliver.
            int status = calls.incrementAndGet() == 1 ? 503 : 200;
            if (status == 200) {
                delivered.add(body);
            }
            ex.sendResponseHeaders(status, -1);
            ex.close();
        });
        server.start();
        try (Database db = Database.open(dir.resolve("data"))) {
            BlockingQueue<byte[]> published = new LinkedBlockingQueue<>();
            MutableClock clock = new MutableClock();
            WebhookDelivery hook = new WebhookDelivery(new WebhookQueue(db), "http://127.0.0.1:"
                    + server.getAddress().getPort() + "/revoked", true, clock, Duration.ofSeconds(5));
            Revocations r = new Revocations(ca, clock, (id, e) -> published.add(e), hook);
            String id = "c".repeat(64);
            r.revoke(id, "attestation failed: test");

            byte[] onTopic = published.poll(5, TimeUnit.SECONDS);
            assertThat(hook.drain()).isZero();
            clock.advance(Duration.ofSeconds(1));
            assertThat(hook.drain()).isEqualTo(1);
            byte[] onHook = delivered.poll(5, TimeUnit.SECONDS);
            assertThat(onTopic).isNotNull();
            assertThat(onHook).isEqualTo(onTopic);
            assertThat(calls.get()).isGreaterThanOrEqualTo(2);

            JsonNode signed = new ObjectMapper().readTree(onHook);
            byte[] event = Base64.getDecoder().decode(signed.path("event").asText());
            Signature v = Signature.getInstance("SHA256withECDSA");
            v.initVerify(ca.certificate().getPublicKey());
            v.update(event);
            assertThat(v.verify(Base64.getDecoder().decode(signed.path("signature").asText()))).isTrue();
            JsonNode e = new ObjectMapper().readTree(event);
            assertThat(e.path("spiffeId").asText()).isEqualTo("spiffe://outpost.test/agent/tpm/" + id);
            assertThat(new String(event, StandardCharsets.UTF_8)).contains("attestation failed: test");

            // A flipped byte of the event no longer verifies.
            event[10] ^= 1;
            v.initVerify(ca.certificate().getPublicKey());
            v.update(event);
            assertThat(v.verify(Base64.getDecoder().decode(signed.path("signature").asText()))).isFalse();
        } finally {
            server.stop(0);
        }
    }
}
