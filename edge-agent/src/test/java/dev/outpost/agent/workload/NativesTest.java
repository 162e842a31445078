package dev.outpost.agent.workload;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URL;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;

/**
 * Devices are x86-64 or aarch64 Linux: the agent's Workload API needs gRPC's shaded epoll transport for both (Unix
 * sockets and SO_PEERCRED); scripts/package keeps exactly those two natives of grpc-netty-shaded.
 */
class NativesTest {
    @Test
    void epollForBothDeviceArchitecturesAndItLoadsHere() throws IOException {
        assertThat(resource("META-INF/native/libio_grpc_netty_shaded_netty_transport_native_epoll_x86_64.so")).hasSize(1);
        assertThat(resource("META-INF/native/libio_grpc_netty_shaded_netty_transport_native_epoll_aarch_64.so")).hasSize(1);
        assertThat(Epoll.isAvailable()).as("epoll: %s", Epoll.unavailabilityCause()).isTrue();
    }

    private static List<URL> resource(String name) throws IOException {
        return new ArrayList<>(Collections.list(NativesTest.class.getClassLoader().getResources(name)));
    }
}
