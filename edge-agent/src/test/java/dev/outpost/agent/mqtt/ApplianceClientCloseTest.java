package dev.outpost.agent.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.security.auth.x500.X500Principal;

import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.jupiter.api.Test;

import dev.outpost.agent.tls.TlsContexts;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.Topics;

/**
 * A session that never got its CONNACK (an appliance that completed TLS and then stalled, or dropped the connection)
 * is closed whole: Paho's sender, pinger and callback threads end with it. They outlived it before, one set per
 * reconnect, logging keep-alive timeouts for ever; the pinger's thread is not a daemon.
 */
class ApplianceClientCloseTest {
    // Each test's own client id: the threads looked for are named after it.
    private final String device = randomId();

    @Test
    void aConnectWithNoConnackEndsAtTheRequestTimeout() throws Exception {
        try (TlsPeer stalled = TlsPeer.start(s -> sleep(30_000))) {
            ApplianceClient c = new ApplianceClient("127.0.0.1", stalled.port(), device, new Topics(), new Codec(),
                    Duration.ofSeconds(1));
            CompletableFuture<Throwable> connect = connectInBackground(c, stalled);
            assertThat(connect.get(10, java.util.concurrent.TimeUnit.SECONDS)).as("the connect, ended by its own limit")
                    .isInstanceOf(MqttException.class);
            assertThat(stalled.connectBytes()).as("CONNECT sent over a completed handshake").isPositive();
            c.close();
            assertNoThreadsOf(device);
        }
    }

    @Test
    void aSessionClosedWhileItWaitsForItsConnackLeavesNoThreadBehind() throws Exception {
        // An appliance that completed TLS, then stalled: the agent is stopped while its connect waits.
        try (TlsPeer stalled = TlsPeer.start(s -> sleep(30_000))) {
            ApplianceClient c = new ApplianceClient("127.0.0.1", stalled.port(), device, new Topics(), new Codec(),
                    Duration.ofSeconds(20));
            CompletableFuture<Throwable> connect = connectInBackground(c, stalled);
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (stalled.connectBytes() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(stalled.connectBytes()).as("CONNECT sent over a completed handshake").isPositive();
            c.close();
            assertThat(connect.get(10, java.util.concurrent.TimeUnit.SECONDS)).as("the connect, ended by the close")
                    .isInstanceOf(MqttException.class);
            assertNoThreadsOf(device);
        }
    }

    @Test
    void aSessionDroppedBeforeItsConnackLeavesNoThreadBehind() throws Exception {
        try (TlsPeer dropping = TlsPeer.start(s -> { })) {
            ApplianceClient c = new ApplianceClient("127.0.0.1", dropping.port(), device, new Topics(), new Codec(),
                    Duration.ofSeconds(5));
            assertThatThrownBy(() -> c.connect(dropping.clientContext())).isInstanceOf(MqttException.class);
            assertThat(dropping.connectBytes()).as("CONNECT sent over a completed handshake").isPositive();
            c.close();
            assertNoThreadsOf(device);
        }
    }

    @Test
    void aSessionRefusedInItsConnackLeavesNoThreadBehind() throws Exception {
        // CONNACK, remaining length 3: no session present, reason 0x87 (not authorized), no properties. What the
        // appliance answers a device it holds as failed.
        try (TlsPeer refusing = TlsPeer.start(s -> {
            try {
                s.getOutputStream().write(new byte[] {0x20, 0x03, 0x00, (byte) 0x87, 0x00});
                s.getOutputStream().flush();
                sleep(2_000);
            } catch (IOException e) {
                // gone already
            }
        })) {
            ApplianceClient c = new ApplianceClient("127.0.0.1", refusing.port(), device, new Topics(), new Codec(),
                    Duration.ofSeconds(5));
            assertThatThrownBy(() -> c.connect(refusing.clientContext())).isInstanceOf(MqttException.class)
                    .hasMessageContaining("Not authorized");
            c.close();
            assertNoThreadsOf(device);
        }
    }

    @Test
    void aSessionTheApplianceDisconnectsLeavesNoThreadBehind() throws Exception {
        for (byte[] end : new byte[][] {
            {(byte) 0xE0, 0x01, (byte) 0x87}, // DISCONNECT, not authorized: a device refused after its evidence
            {}}) {                             // the socket closed with no word: an appliance gone
            try (TlsPeer dropping = TlsPeer.start(s -> {
                try {
                    java.io.OutputStream out = s.getOutputStream();
                    out.write(new byte[] {0x20, 0x03, 0x00, 0x00, 0x00}); // CONNACK, success
                    out.flush();
                    out.write(subAck(s.getInputStream()));
                    out.flush();
                    sleep(300);
                    out.write(end);
                    out.flush();
                    sleep(300);
                } catch (IOException e) {
                    // gone already
                }
            })) {
                ApplianceClient c = new ApplianceClient("127.0.0.1", dropping.port(), device, new Topics(), new Codec(),
                        Duration.ofSeconds(5));
                c.connect(dropping.clientContext());
                assertThat(c.lost().get(10, java.util.concurrent.TimeUnit.SECONDS)).isNotNull();
                c.close();
                assertNoThreadsOf(device);
            }
        }
    }

    @Test
    void twoClosesAtOnceLeaveNoThreadBehind() throws Exception {
        // The daemon's stop() closes the session from its own thread while the agent's loop closes it on its way out.
        for (int round = 0; round < 5; round++) {
            try (TlsPeer serving = TlsPeer.start(s -> {
                try {
                    java.io.OutputStream out = s.getOutputStream();
                    out.write(new byte[] {0x20, 0x03, 0x00, 0x00, 0x00});
                    out.flush();
                    out.write(subAck(s.getInputStream()));
                    out.flush();
                    s.getInputStream().read(new byte[256]); // the DISCONNECT, or the end
                    sleep(200);
                } catch (IOException e) {
                    // gone already
                }
            })) {
                ApplianceClient c = new ApplianceClient("127.0.0.1", serving.port(), device, new Topics(), new Codec(),
                        Duration.ofSeconds(5));
                c.connect(serving.clientContext());
                java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
                Thread other = new Thread(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    c.close();
                });
                other.start();
                go.countDown();
                c.close();
                other.join(10_000);
                assertNoThreadsOf(device);
            }
        }
    }

    // A SUBACK granting every subscription of the SUBSCRIBE read from {@code in} at the QoS asked.
    private static byte[] subAck(InputStream in) throws IOException {
        int type = in.read();
        assertThat(type).as("SUBSCRIBE").isEqualTo(0x82);
        int length = varInt(in);
        byte[] body = in.readNBytes(length);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(body);
        int packetId = b.getShort() & 0xffff;
        int propsLength = varInt(new java.io.ByteArrayInputStream(body, b.position(), body.length - b.position()));
        b.position(b.position() + (propsLength < 128 ? 1 : 2) + propsLength);
        java.io.ByteArrayOutputStream codes = new java.io.ByteArrayOutputStream();
        while (b.hasRemaining()) {
            int topicLength = b.getShort() & 0xffff;
            b.position(b.position() + topicLength);
            codes.write(b.get() & 0x03);
        }
        java.io.ByteArrayOutputStream ack = new java.io.ByteArrayOutputStream();
        ack.write(0x90);
        ack.write(3 + codes.size());
        ack.write(packetId >> 8);
        ack.write(packetId & 0xff);
        ack.write(0);
        ack.write(codes.toByteArray());
        return ack.toByteArray();
    }

    private static int varInt(InputStream in) throws IOException {
        int value = 0;
        for (int shift = 0; shift < 28; shift += 7) {
            int b = in.read();
            value |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return value;
            }
        }
        throw new IOException("bad variable byte integer");
    }

    private static String randomId() {
        byte[] b = new byte[32];
        java.util.concurrent.ThreadLocalRandom.current().nextBytes(b);
        return java.util.HexFormat.of().formatHex(b);
    }

    // What connect() ended with (null when it connected), on a thread of its own so the test can close under it.
    private static CompletableFuture<Throwable> connectInBackground(ApplianceClient c, TlsPeer peer) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                c.connect(peer.clientContext());
                return null;
            } catch (Exception e) {
                return e;
            }
        });
    }

    private static void assertNoThreadsOf(String clientId) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        List<String> left;
        do {
            left = Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                    .filter(n -> n.contains(clientId)).toList();
            if (left.isEmpty()) {
                return;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        assertThat(left).as("Paho threads of the closed session").isEmpty();
    }

    /** A TLS server on loopback that completes each handshake, reads the CONNECT, then hands the socket to {@code serve}. */
    private static final class TlsPeer implements AutoCloseable {
        private final SSLServerSocket server;
        private final X509Certificate cert;
        private final List<SSLSocket> accepted = new ArrayList<>();
        private final java.util.concurrent.atomic.AtomicInteger connectBytes = new java.util.concurrent.atomic.AtomicInteger();

        private TlsPeer(SSLServerSocket server, X509Certificate cert, Consumer<SSLSocket> serve) {
            this.server = server;
            this.cert = cert;
            Thread t = new Thread(() -> {
                try {
                    while (true) {
                        SSLSocket s = (SSLSocket) server.accept();
                        synchronized (accepted) {
                            accepted.add(s);
                        }
                        s.startHandshake();
                        connectBytes.addAndGet(Math.max(0, s.getInputStream().read(new byte[256])));
                        serve.accept(s);
                        s.close();
                    }
                } catch (IOException e) {
                    // closed by the test
                }
            }, "tls-peer");
            t.setDaemon(true);
            t.start();
        }

        static TlsPeer start(Consumer<SSLSocket> serve) throws Exception {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair key = g.generateKeyPair();
            X500Principal name = new X500Principal("CN=127.0.0.1");
            Date now = new Date();
            X509Certificate cert = new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(
                    name, BigInteger.ONE, new Date(now.getTime() - 60_000), new Date(now.getTime() + 3_600_000), name,
                    key.getPublic())
                    // The agent checks the appliance's name, as an HTTPS client would.
                    .addExtension(org.bouncycastle.asn1.x509.Extension.subjectAlternativeName, false,
                            new org.bouncycastle.asn1.x509.GeneralNames(new org.bouncycastle.asn1.x509.GeneralName(
                                    org.bouncycastle.asn1.x509.GeneralName.iPAddress, "127.0.0.1")))
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate())));
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("peer", key.getPrivate(), new char[0], new X509Certificate[] {cert});
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, new char[0]);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            SSLServerSocket server = (SSLServerSocket) ctx.getServerSocketFactory().createServerSocket(0, 50,
                    InetAddress.getLoopbackAddress());
            return new TlsPeer(server, cert, serve);
        }

        int connectBytes() {
            return connectBytes.get();
        }

        int port() {
            return server.getLocalPort();
        }

        SSLContext clientContext() throws Exception {
            return TlsContexts.context(TlsContexts.trusting(List.of(cert)), null);
        }

        @Override
        public void close() throws IOException {
            server.close();
            synchronized (accepted) {
                for (SSLSocket s : accepted) {
                    s.close();
                }
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
