package dev.outpost.appliance.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URL;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * Gateways are x86-64 or aarch64 Linux: the appliance carries the epoll transport (its admin socket needs it) and
 * BoringSSL for both, and nothing for other systems (Linux is all that ships).
 */
class NativesTest {
    @Test
    void bothGatewayArchitecturesAndNoOtherSystem() throws IOException {
        assertThat(resource("META-INF/native/libnetty_transport_native_epoll_x86_64.so")).isNotEmpty();
        assertThat(resource("META-INF/native/libnetty_transport_native_epoll_aarch_64.so")).isNotEmpty();
        assertThat(resource("META-INF/native/libnetty_tcnative_linux_x86_64.so")).isNotEmpty();
        assertThat(resource("META-INF/native/libnetty_tcnative_linux_aarch_64.so")).isNotEmpty();
        assertThat(resource("META-INF/native/libnetty_tcnative_osx_x86_64.jnilib")).isEmpty();
        assertThat(resource("META-INF/native/libnetty_tcnative_osx_aarch_64.jnilib")).isEmpty();
        assertThat(resource("META-INF/native/netty_tcnative_windows_x86_64.dll")).isEmpty();
    }

    private static List<URL> resource(String name) throws IOException {
        return new ArrayList<>(Collections.list(NativesTest.class.getClassLoader().getResources(name)));
    }
}
