package dev.outpost.mqtt.protocol.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;

import javax.net.ssl.SSLContext;

import org.junit.jupiter.api.Test;

class NoDelaySocketFactoryTest {
    @Test
    void everySocketItMakesHasNagleOff() throws Exception {
        NoDelaySocketFactory f = new NoDelaySocketFactory(SSLContext.getDefault().getSocketFactory());
        try (Socket unconnected = f.createSocket()) {
            assertThat(unconnected.getTcpNoDelay()).isTrue();
        }
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket connected = f.createSocket(InetAddress.getLoopbackAddress(), server.getLocalPort())) {
            assertThat(connected.getTcpNoDelay()).isTrue();
        }
    }
}
