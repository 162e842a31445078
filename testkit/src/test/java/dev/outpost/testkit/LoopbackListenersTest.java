package dev.outpost.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

class LoopbackListenersTest {

    @Test
    void aListenerIsHeldByItsOwnProcessOnly() throws Exception {
        assumeTrue(LoopbackListeners.available(), "/proc/net/tcp is not readable here");
        long self = ProcessHandle.current().pid();
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
            assertThat(LoopbackListeners.heldBy(self, port)).isTrue();

            // Another process connected to it, or merely alive, does not hold it.
            Process other = new ProcessBuilder("sleep", "30").start();
            try {
                assertThat(LoopbackListeners.heldBy(other.pid(), port)).isFalse();
            } finally {
                other.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
            // A connected socket on the same port is not a listener.
            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), port); Socket accepted = s.accept()) {
                assertThat(LoopbackListeners.heldBy(self, client.getLocalPort())).isFalse();
            }
        }
        assertThat(LoopbackListeners.heldBy(self, port)).isFalse();
    }

    @Test
    void aProcessThatIsGoneHoldsNothing() throws Exception {
        assumeTrue(LoopbackListeners.available(), "/proc/net/tcp is not readable here");
        Process p = new ProcessBuilder(List.of("true")).start();
        p.waitFor(5, TimeUnit.SECONDS);
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            assertThat(LoopbackListeners.heldBy(p.pid(), s.getLocalPort())).isFalse();
        }
    }
}
