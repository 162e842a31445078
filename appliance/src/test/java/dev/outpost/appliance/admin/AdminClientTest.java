package dev.outpost.appliance.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI's admin client against a real Unix socket whose far side misbehaves: silent, slow, or malformed. */
class AdminClientTest {

    @Test
    void anApplianceThatAcceptsButNeverAnswersFailsTheCallInsteadOfHoldingIt(@TempDir Path dir) throws Exception {
        try (Peer silent = Peer.start(dir, ch -> sleep(30_000))) {
            AdminClient client = new AdminClient(silent.socket, Duration.ofMillis(500));
            assertThatThrownBy(() -> client.get("/v1/devices"))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("the appliance did not answer on " + silent.socket + " for 500 ms")
                    .hasMessageContaining("stuck or overloaded");
            Path out = Files.createFile(dir.resolve("backup.part"));
            assertThatThrownBy(() -> client.download("/v1/backup", out))
                    .isInstanceOf(IOException.class).hasMessageContaining("did not answer");
        }
    }

    @Test
    void aSlowButSteadyReplyIsReadWhole(@TempDir Path dir) throws Exception {
        String body = "{\"label\":\"caf\u00e9\"}";
        try (Peer slow = Peer.start(dir, ch -> {
            byte[] reply = ("HTTP/1.1 200 OK\r\nContent-Length: " + body.getBytes(StandardCharsets.UTF_8).length
                    + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8);
            for (byte b : reply) {
                write(ch, new byte[] {b});
                sleep(20);
            }
        })) {
            // Each byte well within the idle limit, the whole reply well over it.
            AdminClient.Reply r = new AdminClient(slow.socket, Duration.ofMillis(300)).get("/v1/devices/x");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).isEqualTo(body);
        }
    }

    @Test
    void chunkedRepliesCountBytesAndRefuseACutOrBadChunk() throws Exception {
        byte[] cafe = "caf\u00e9".getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        String whole = head + Integer.toHexString(cafe.length) + "\r\n" + new String(cafe, StandardCharsets.UTF_8)
                + "\r\n3;ext=1\r\n!!!\r\n0\r\n\r\n";
        assertThat(AdminClient.parse(whole).body()).isEqualTo("caf\u00e9!!!");

        for (String bad : new String[] {
            head + "5\r\ncaf",                 // cut inside a chunk
            head + "5\r\ncafe!\r\n",           // no last chunk
            head + "zz\r\nhello\r\n0\r\n\r\n", // size not hex
            head + "-1\r\nx\r\n0\r\n\r\n",
            head + "7fffffff\r\nx\r\n0\r\n\r\n",
            head + "2\r\nabc\r\n0\r\n\r\n"}) { // chunk longer than it says
            assertThatThrownBy(() -> AdminClient.parse(bad)).as(bad).isInstanceOf(IOException.class)
                    .hasMessage("admin API sent a chunked reply cut short or malformed");
        }
    }

    /** A one-connection-at-a-time server on a Unix socket that hands each connection to {@code serve}. */
    private static final class Peer implements AutoCloseable {
        final Path socket;
        private final ServerSocketChannel server;
        private final Thread thread;
        private final List<SocketChannel> accepted = new ArrayList<>();

        private Peer(Path socket, ServerSocketChannel server, Consumer<SocketChannel> serve) {
            this.socket = socket;
            this.server = server;
            this.thread = new Thread(() -> {
                try {
                    while (true) {
                        SocketChannel ch = server.accept();
                        synchronized (accepted) {
                            accepted.add(ch);
                        }
                        readRequest(ch);
                        serve.accept(ch);
                        ch.close();
                    }
                } catch (IOException e) {
                    // closed by the test
                }
            }, "admin-peer");
            thread.setDaemon(true);
        }

        static Peer start(Path dir, Consumer<SocketChannel> serve) throws IOException {
            Path socket = dir.resolve("admin.sock");
            ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(socket));
            Peer p = new Peer(socket, server, serve);
            p.thread.start();
            return p;
        }

        @Override
        public void close() throws Exception {
            server.close();
            thread.interrupt();
            synchronized (accepted) {
                for (SocketChannel ch : accepted) {
                    ch.close();
                }
            }
            thread.join(5_000);
        }
    }

    // The request read whole before replying: a socket closed with unread bytes resets the client's read.
    private static void readRequest(SocketChannel ch) throws IOException {
        StringBuilder seen = new StringBuilder();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (!seen.toString().endsWith("\r\n\r\n") && ch.read(one) > 0) {
            seen.append((char) one.get(0));
            one.clear();
        }
    }

    private static void write(SocketChannel ch, byte[] b) {
        try {
            ch.write(ByteBuffer.wrap(b));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
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
