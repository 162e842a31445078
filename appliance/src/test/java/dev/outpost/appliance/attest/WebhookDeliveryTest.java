package dev.outpost.appliance.attest;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.sun.net.httpserver.HttpServer;

import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.appliance.store.Database;
import dev.outpost.appliance.store.WebhookQueue;
import dev.outpost.testkit.MutableClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The webhook's queue against a real HTTP receiver on loopback that is down, refuses, stays silent or takes events:
 * nothing is lost across failures and restarts, order holds, tries are spaced and bounded in time, the queue in size.
 */
class WebhookDeliveryTest {
    enum Mode { TAKE, REFUSE, SILENT }

    @TempDir
    Path dir;
    private HttpServer receiver;
    private ExecutorService receiverThreads;
    private final AtomicReference<Mode> mode = new AtomicReference<>(Mode.TAKE);
    private final List<String> taken = new CopyOnWriteArrayList<>();
    private final List<String> credentials = new CopyOnWriteArrayList<>();
    private final AtomicInteger requests = new AtomicInteger();
    private final CountDownLatch released = new CountDownLatch(1);
    private final MutableClock clock = new MutableClock();

    @BeforeEach
    void receiver() throws IOException {
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiverThreads = Executors.newFixedThreadPool(4);
        receiver.setExecutor(receiverThreads);
        receiver.createContext("/revoked", ex -> {
            requests.incrementAndGet();
            credentials.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
            byte[] body = ex.getRequestBody().readAllBytes();
            switch (mode.get()) {
                case TAKE -> {
                    taken.add(new String(body, StandardCharsets.UTF_8));
                    ex.sendResponseHeaders(204, -1);
                }
                case REFUSE -> ex.sendResponseHeaders(503, -1);
                case SILENT -> {
                    try {
                        released.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
            ex.close();
        });
        receiver.start();
    }

    @AfterEach
    void stop() {
        released.countDown();
        receiver.stop(0);
        receiverThreads.shutdownNow();
    }

    private String url() {
        return "http://127.0.0.1:" + receiver.getAddress().getPort() + "/revoked";
    }

    private WebhookDelivery delivery(Database db, String url) {
        return new WebhookDelivery(new WebhookQueue(db), url, true, clock, Duration.ofSeconds(2));
    }

    private static byte[] event(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void eventsWaitingWhenTheApplianceStopsAreDeliveredAfterItsRestartInOrder() {
        mode.set(Mode.REFUSE);
        try (Database db = Database.open(dir.resolve("data"))) {
            WebhookDelivery d = delivery(db, url());
            d.enqueue(event("{\"n\":1}"));
            d.enqueue(event("{\"n\":2}"));
            assertThat(d.drain()).isZero();
            // A failed try stops the round: the second event was not offered behind the refused first.
            assertThat(requests.get()).isEqualTo(1);
            assertThat(d.waiting()).isEqualTo(2);
        }
        mode.set(Mode.TAKE);
        try (Database db = Database.open(dir.resolve("data"))) {
            WebhookDelivery d = delivery(db, url());
            assertThat(d.waiting()).isEqualTo(2);
            assertThat(d.drain()).isEqualTo(2);
            assertThat(taken).containsExactly("{\"n\":1}", "{\"n\":2}");
            assertThat(new WebhookQueue(db).size()).isZero();
            assertThat(d.drain()).isZero();
            assertThat(taken).hasSize(2);
        }
    }

    @Test
    void aReceiverThatIsNotListeningCountsAsAFailedTryAndKeepsTheEvent() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        try (Database db = Database.open(dir.resolve("data"))) {
            WebhookQueue q = new WebhookQueue(db);
            WebhookDelivery d = new WebhookDelivery(q, "http://127.0.0.1:" + port + "/revoked", true, clock,
                    Duration.ofSeconds(2));
            d.enqueue(event("{}"));
            assertThat(d.drain()).isZero();
            WebhookQueue.Waiting w = q.oldest(1).get(0);
            assertThat(w.attempts()).isEqualTo(1);
            assertThat(d.waiting()).isEqualTo(1);
        }
    }

    @Test
    void aSilentReceiverEndsTheTryAtItsDeadlineAndTheNextTryDelivers() throws Exception {
        mode.set(Mode.SILENT);
        try (Database db = Database.open(dir.resolve("data"))) {
            WebhookDelivery d = delivery(db, url());
            d.enqueue(event("{\"n\":1}"));
            long t0 = System.nanoTime();
            assertThat(d.drain()).isZero();
            // Bounded by the 2 s timeout (plus our own second), not by the silent peer.
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(30));
            mode.set(Mode.TAKE);
            clock.advance(Duration.ofSeconds(1));
            assertThat(d.drain()).isEqualTo(1);
            assertThat(taken).containsExactly("{\"n\":1}");
        }
    }

    @Test
    void triesAreSpacedWhileTheReceiverRefusesAndResumeAtOnceWhenItAnswers() {
        mode.set(Mode.REFUSE);
        try (Database db = Database.open(dir.resolve("data"))) {
            WebhookDelivery d = delivery(db, url());
            d.enqueue(event("{}"));
            d.drain();
            assertThat(requests.get()).isEqualTo(1);
            d.drain();
            assertThat(requests.get()).as("no try before the first backoff (1 s) passed").isEqualTo(1);
            clock.advance(Duration.ofSeconds(1));
            d.drain();
            assertThat(requests.get()).isEqualTo(2);
            clock.advance(Duration.ofMillis(1999));
            d.drain();
            assertThat(requests.get()).as("the second wait is 2 s").isEqualTo(2);
            clock.advance(Duration.ofMillis(1));
            d.drain();
            assertThat(requests.get()).isEqualTo(3);
            assertThat(new WebhookQueue(db).oldest(1).get(0).attempts()).isEqualTo(3);

            mode.set(Mode.TAKE);
            clock.advance(Duration.ofSeconds(4));
            assertThat(d.drain()).isEqualTo(1);
            // Delivered: the next event goes at once, with no backoff left over.
            d.enqueue(event("{\"next\":true}"));
            assertThat(d.drain()).isEqualTo(1);
            assertThat(taken).containsExactly("{}", "{\"next\":true}");
        }
    }

    @Test
    void backoffDoublesUpToFiveMinutes() {
        assertThat(WebhookDelivery.backoff(1)).isEqualTo(Duration.ofSeconds(1));
        assertThat(WebhookDelivery.backoff(2)).isEqualTo(Duration.ofSeconds(2));
        assertThat(WebhookDelivery.backoff(9)).isEqualTo(Duration.ofSeconds(256));
        assertThat(WebhookDelivery.backoff(10)).isEqualTo(Duration.ofMinutes(5));
        assertThat(WebhookDelivery.backoff(1_000)).isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    void pastTheBoundTheOldestAreDroppedAndCounted() {
        mode.set(Mode.REFUSE);
        try (Database db = Database.open(dir.resolve("data"))) {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            WebhookDelivery d = new WebhookDelivery(new WebhookQueue(db), url(), true, null, null, clock, Duration.ofSeconds(2), 3)
                    .bind(registry);
            for (int i = 1; i <= 5; i++) {
                d.enqueue(event("{\"n\":" + i + "}"));
            }
            assertThat(d.waiting()).isEqualTo(3);
            assertThat(registry.get("outpost_revocation_webhook_dropped").functionCounter().count()).isEqualTo(2);
            mode.set(Mode.TAKE);
            assertThat(d.drain()).isEqualTo(3);
            assertThat(taken).containsExactly("{\"n\":3}", "{\"n\":4}", "{\"n\":5}");
            assertThat(registry.get("outpost_revocation_webhook_delivered").functionCounter().count()).isEqualTo(3);
            assertThat(registry.get("outpost_revocation_webhook_waiting").gauge().value()).isZero();
        }
    }

    @Test
    void eventsLeftForAWebhookNoLongerConfiguredAreDropped() {
        try (Database db = Database.open(dir.resolve("data"))) {
            WebhookQueue q = new WebhookQueue(db);
            q.add(event("{}"), clock.instant());
            q.add(event("{}"), clock.instant());
            assertThat(WebhookDelivery.discardUnconfigured(q)).isEqualTo(2);
            assertThat(q.size()).isZero();
        }
    }

    @Test
    void aRedirectIsNotFollowed() {
        receiver.createContext("/moved", ex -> {
            requests.incrementAndGet();
            ex.getResponseHeaders().add("Location", url());
            ex.sendResponseHeaders(307, -1);
            ex.close();
        });
        try (Database db = Database.open(dir.resolve("data"))) {
            WebhookDelivery d = delivery(db, "http://127.0.0.1:" + receiver.getAddress().getPort() + "/moved");
            d.enqueue(event("{}"));
            assertThat(d.drain()).isZero();
            assertThat(taken).isEmpty();
            assertThat(new WebhookQueue(db).oldest(1).get(0).attempts()).isEqualTo(1);
        }
    }

    /** An https receiver whose certificate, issued by {@code ca}, names {@code names}. */
    private com.sun.net.httpserver.HttpsServer httpsReceiver(SiteCa ca, List<String> names) throws Exception {
        java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC");
        g.initialize(256);
        java.security.KeyPair kp = g.generateKeyPair();
        java.security.cert.X509Certificate cert = ca.issueServerCertificate(kp.getPublic(), names, Duration.ofHours(1));
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("receiver", kp.getPrivate(), new char[0],
                new java.security.cert.X509Certificate[] {cert, ca.certificate()});
        javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance("PKIX");
        kmf.init(ks, new char[0]);
        javax.net.ssl.SSLContext serverTls = javax.net.ssl.SSLContext.getInstance("TLS");
        serverTls.init(kmf.getKeyManagers(), null, null);
        com.sun.net.httpserver.HttpsServer https = com.sun.net.httpserver.HttpsServer.create(
                new InetSocketAddress("127.0.0.1", 0), 0);
        https.setHttpsConfigurator(new com.sun.net.httpserver.HttpsConfigurator(serverTls));
        https.createContext("/revoked", ex -> {
            taken.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        https.start();
        return https;
    }

    private SiteCa ca(String name) {
        return SiteCa.loadOrCreate(dir.resolve(name), name + ".test", name, Duration.ofDays(1),
                java.time.Clock.systemUTC());
    }

    private Path pem(SiteCa ca, String file) throws IOException {
        return java.nio.file.Files.writeString(dir.resolve(file), dev.outpost.tpm.keys.Pem.certificate(ca.certificate()));
    }

    @Test
    void anHttpsReceiverIsTrustedThroughTheConfiguredCaOnly() throws Exception {
        SiteCa receiverCa = ca("receiver");
        com.sun.net.httpserver.HttpsServer https = httpsReceiver(receiverCa, List.of("127.0.0.1"));
        String url = "https://127.0.0.1:" + https.getAddress().getPort() + "/revoked";
        try (Database db = Database.open(dir.resolve("data"))) {
            WebhookQueue q = new WebhookQueue(db);
            // The JDK's trust store does not know the site's CA; another CA is not it either.
            WebhookDelivery jdk = new WebhookDelivery(q, url, false, null, null, clock, Duration.ofSeconds(5));
            jdk.enqueue(event("{}"));
            assertThat(jdk.drain()).isZero();
            WebhookDelivery wrong = new WebhookDelivery(q, url, false,
                    WebhookDelivery.trusting(pem(ca("other"), "other.pem")), null, clock, Duration.ofSeconds(5));
            assertThat(wrong.drain()).isZero();
            assertThat(q.oldest(1).get(0).attempts()).isEqualTo(2);
            assertThat(taken).isEmpty();
            WebhookDelivery site = new WebhookDelivery(q, url, false,
                    WebhookDelivery.trusting(pem(receiverCa, "receiver.pem")), null, clock, Duration.ofSeconds(5));
            assertThat(site.drain()).isEqualTo(1);
            assertThat(taken).containsExactly("{}");
        } finally {
            https.stop(0);
        }
    }

    @Test
    void aCertificateFromTheTrustedCaForAnotherHostIsRefused() throws Exception {
        SiteCa receiverCa = ca("receiver");
        com.sun.net.httpserver.HttpsServer https = httpsReceiver(receiverCa, List.of("siem.example"));
        try (Database db = Database.open(dir.resolve("data"))) {
            WebhookQueue q = new WebhookQueue(db);
            WebhookDelivery d = new WebhookDelivery(q, "https://127.0.0.1:" + https.getAddress().getPort() + "/revoked",
                    false, WebhookDelivery.trusting(pem(receiverCa, "receiver.pem")), null, clock, Duration.ofSeconds(5));
            d.enqueue(event("{}"));
            assertThat(d.drain()).isZero();
            assertThat(taken).isEmpty();
            assertThat(q.oldest(1).get(0).attempts()).isEqualTo(1);
        } finally {
            https.stop(0);
        }
    }

    @Test
    void aCaFileWithoutACertificateIsRefused() throws Exception {
        Path empty = java.nio.file.Files.writeString(dir.resolve("empty.pem"), "not a certificate\n");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> WebhookDelivery.trusting(empty))
                .hasMessageContaining("holds no certificate");
    }

    @Test
    void theAuthorizationFileIsSentReadAgainEachRoundAndRefusedWhenOthersCanReadIt() throws Exception {
        Path token = dir.resolve("webhook.token");
        java.nio.file.Files.writeString(token, "Bearer first-token\n");
        java.nio.file.Files.setPosixFilePermissions(token, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        try (Database db = Database.open(dir.resolve("data"))) {
            WebhookDelivery d = new WebhookDelivery(new WebhookQueue(db), url(), true, null, token, clock,
                    Duration.ofSeconds(2));
            d.enqueue(event("{\"n\":1}"));
            assertThat(d.drain()).isEqualTo(1);
            // A new credential is taken without a restart.
            java.nio.file.Files.writeString(token, "Bearer second-token");
            d.enqueue(event("{\"n\":2}"));
            assertThat(d.drain()).isEqualTo(1);
            assertThat(credentials).containsExactly("Bearer first-token", "Bearer second-token");

            // Readable by others: the credential is taken as leaked, nothing is sent and the event waits.
            java.nio.file.Files.setPosixFilePermissions(token, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            d.enqueue(event("{\"n\":3}"));
            assertThat(d.drain()).isZero();
            assertThat(requests.get()).isEqualTo(2);
            WebhookQueue.Waiting w = new WebhookQueue(db).oldest(1).get(0);
            assertThat(w.attempts()).isEqualTo(1);
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> WebhookDelivery.authorization(token))
                .hasMessageContaining("group/others may access it");
        java.nio.file.Files.setPosixFilePermissions(token, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        java.nio.file.Files.writeString(token, "Bearer a\r\nX-Injected: 1");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> WebhookDelivery.authorization(token))
                .hasMessageContaining("cannot go in an HTTP header");
        java.nio.file.Files.writeString(token, "  \n");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> WebhookDelivery.authorization(token))
                .hasMessageContaining("is empty");
    }
}
