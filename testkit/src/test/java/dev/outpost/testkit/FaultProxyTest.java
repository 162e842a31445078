package dev.outpost.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The fault proxy against a real echo server on loopback: each mode does what the fault tests rely on. */
class FaultProxyTest {
    private ServerSocket echo;
    private final AtomicLong echoed = new AtomicLong();
    private FaultProxy proxy;

    @BeforeEach
    void echoServer() throws IOException {
        echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(() -> {
            while (!echo.isClosed()) {
                try {
                    Socket s = echo.accept();
                    Thread c = new Thread(() -> {
                        try (s) {
                            byte[] b = new byte[4096];
                            int n;
                            while ((n = s.getInputStream().read(b)) > 0) {
                                echoed.addAndGet(n);
                                s.getOutputStream().write(b, 0, n);
                            }
                        } catch (IOException e) {
                            // the client went away
                        }
                    });
                    c.setDaemon(true);
                    c.start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        t.setDaemon(true);
        t.start();
        proxy = FaultProxy.to(echo.getLocalPort());
    }

    @AfterEach
    void stop() throws IOException {
        proxy.close();
        echo.close();
    }

    @Test
    void passesBothWays() throws IOException, InterruptedException {
        try (Socket s = connect()) {
            byte[] payload = new byte[100_000];
            Arrays.fill(payload, (byte) 'x');
            s.getOutputStream().write(payload);
            assertThat(readExactly(s.getInputStream(), payload.length)).isEqualTo(payload);
        }
        // The proxy counts a chunk once its write returned, which may be after the peer has read it.
        long deadline = System.nanoTime() + 5_000_000_000L;
        while ((proxy.forwardedUp() < 100_000 || proxy.forwardedDown() < 100_000) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(proxy.forwardedUp()).isEqualTo(100_000);
        assertThat(proxy.forwardedDown()).isEqualTo(100_000);
    }

    @Test
    void downRefusesNewConnectionsCutsOpenOnesAndComesBackOnTheSamePort() throws IOException {
        int port = proxy.port();
        Socket open = connect();
        roundTrip(open, "before");
        proxy.down();
        long echoedBefore = echoed.get();
        // Refused; on a busy machine another process may take the freed port meanwhile: then nothing reaches our
        // server either, which is what "down" promises.
        try (Socket s = connect()) {
            s.setSoTimeout(1000);
            s.getOutputStream().write('x');
            assertThat(readOrTimeout(s)).isNotEqualTo('x');
        } catch (ConnectException refused) {
            // the expected case
        }
        assertThat(echoed.get()).isEqualTo(echoedBefore);
        // The open connection was cut: reading ends (EOF or reset), it never hangs.
        open.setSoTimeout(5000);
        assertThat(readOrFail(open)).isEqualTo(-1);
        open.close();

        proxy.pass();
        assertThat(proxy.port()).isEqualTo(port);
        try (Socket s = connect()) {
            roundTrip(s, "after");
        }
    }

    @Test
    void stalledAcceptsButForwardsNothingUntilReleased() throws IOException {
        proxy.stall();
        try (Socket s = connect()) {
            s.setSoTimeout(300);
            s.getOutputStream().write("held".getBytes(StandardCharsets.US_ASCII));
            assertThatThrownBy(() -> s.getInputStream().read()).isInstanceOf(SocketTimeoutException.class);
            assertThat(echoed.get()).as("nothing reached the server").isZero();
            proxy.pass();
            s.setSoTimeout(5000);
            assertThat(new String(readExactly(s.getInputStream(), 4), StandardCharsets.US_ASCII)).isEqualTo("held");
        }
    }

    @Test
    void droppedResponsesReachTheServerButNeverTheClient() throws Exception {
        proxy.dropResponses();
        try (Socket s = connect()) {
            s.setSoTimeout(300);
            s.getOutputStream().write("request".getBytes(StandardCharsets.US_ASCII));
            SiteWait.until(() -> echoed.get() == 7);
            assertThatThrownBy(() -> s.getInputStream().read()).isInstanceOf(SocketTimeoutException.class);
            assertThat(proxy.forwardedDown()).isZero();
        }
    }

    @Test
    void cutAfterForwardsOnlyThatManyBytesUp() throws Exception {
        proxy.cutAfter(10);
        try (Socket s = connect()) {
            s.setSoTimeout(5000);
            s.getOutputStream().write("0123456789abcdef".getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(readExactly(s.getInputStream(), 10), StandardCharsets.US_ASCII)).isEqualTo("0123456789");
            s.setSoTimeout(300);
            assertThatThrownBy(() -> s.getInputStream().read()).isInstanceOf(SocketTimeoutException.class);
            assertThat(echoed.get()).isEqualTo(10);
        }
    }

    @Test
    void slowDeliversEverythingIntact() throws IOException {
        proxy.slow(64_000, Duration.ofMillis(50));
        try (Socket s = connect()) {
            byte[] payload = new byte[20_000];
            new java.util.Random(7).nextBytes(payload);
            s.getOutputStream().write(payload);
            s.setSoTimeout(10_000);
            assertThat(readExactly(s.getInputStream(), payload.length)).isEqualTo(payload);
        }
    }

    @Test
    void throttleSpacesReservationsAtTheRate() {
        Throttle t = new Throttle(4000);
        long second = 1_000_000_000L;
        // 1000 bytes at 4000 B/s take a quarter second; the next 1000 queue behind them.
        assertThat(t.reserve(0, 1000)).isEqualTo(second / 4);
        assertThat(t.reserve(0, 1000)).isEqualTo(second / 2);
        // An idle link does not bank credit: later bytes start when they come.
        assertThat(t.reserve(10 * second, 4000)).isEqualTo(11 * second);
        assertThatThrownBy(() -> new Throttle(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aCutConnectionLeavesNoThreadBehind() throws Exception {
        try (Socket s = connect()) {
            s.getOutputStream().write(new byte[] {1, 2, 3});
            assertThat(readExactly(s.getInputStream(), 3)).containsExactly(1, 2, 3);
        }
        proxy.down();
        // Its readers end on the closed sockets; its writers, waiting for the next chunk, end with them.
        long deadline = System.nanoTime() + 5_000_000_000L;
        java.util.List<String> left;
        do {
            left = Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                    .filter(n -> n.startsWith("fault-proxy-read") || n.startsWith("fault-proxy-write")).toList();
            Thread.sleep(20);
        } while (!left.isEmpty() && System.nanoTime() < deadline);
        assertThat(left).as("the proxy's threads for the cut connection").isEmpty();
    }

    private Socket connect() throws IOException {
        return new Socket(InetAddress.getLoopbackAddress(), proxy.port());
    }

    private static void roundTrip(Socket s, String text) throws IOException {
        s.setSoTimeout(5000);
        s.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
        assertThat(new String(readExactly(s.getInputStream(), text.length()), StandardCharsets.US_ASCII)).isEqualTo(text);
    }

    private static int readOrFail(Socket s) {
        try {
            return s.getInputStream().read();
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the cut connection hung", e);
        } catch (IOException e) {
            return -1;
        }
    }

    private static int readOrTimeout(Socket s) {
        try {
            return s.getInputStream().read();
        } catch (IOException e) {
            return -1;
        }
    }

    private static byte[] readExactly(InputStream in, int n) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] b = new byte[8192];
        while (out.size() < n) {
            int r = in.read(b, 0, Math.min(b.length, n - out.size()));
            if (r < 0) {
                break;
            }
            out.write(b, 0, r);
        }
        return out.toByteArray();
    }

    /** Polls a condition for up to 5 s (the proxy forwards on its own threads). */
    private static final class SiteWait {
        static void until(java.util.function.BooleanSupplier c) throws InterruptedException {
            long end = System.nanoTime() + 5_000_000_000L;
            while (!c.getAsBoolean()) {
                if (System.nanoTime() > end) {
                    throw new AssertionError("condition not met in 5 s");
                }
                Thread.sleep(20);
            }
        }
    }
}
