package dev.outpost.mqtt.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import dev.outpost.mqtt.protocol.Kind;

class ResponseCacheTest {
    private final AtomicLong now = new AtomicLong();
    private final ResponseCache cache = new ResponseCache(2, 100, Duration.ofSeconds(10), now::get);
    private final ResponseCache.Key a = ResponseCache.Key.of("a", true, new byte[] { 1 });

    @Test
    void aRepeatGetsTheSameFutureUntilItExpires() {
        ResponseCache.Lookup first = cache.lookupOrReserve(a, Kind.STATUS);
        first.fresh().complete(new byte[] { 42 });

        assertThat(cache.lookupOrReserve(a, Kind.STATUS).existing().result()).containsExactly(42);
        now.addAndGet(Duration.ofSeconds(11).toNanos());
        assertThat(cache.lookupOrReserve(a, Kind.STATUS).hit()).isFalse();
    }

    @Test
    void anotherKindOrTheOtherAuthenticationStateIsANewRequest() {
        cache.lookupOrReserve(a, Kind.STATUS).fresh().complete(new byte[0]);

        assertThat(cache.lookupOrReserve(ResponseCache.Key.of("a", false, new byte[] { 1 }), Kind.STATUS).hit()).isFalse();
        assertThat(cache.lookupOrReserve(a, Kind.CSR).hit()).isFalse();
    }

    @Test
    void boundedAndForgettable() {
        ResponseCache.Lookup first = cache.lookupOrReserve(a, Kind.STATUS);
        cache.forget(a, first.fresh());
        assertThat(cache.size()).isZero();

        for (int i = 0; i < 5; i++) {
            cache.lookupOrReserve(ResponseCache.Key.of("d", true, new byte[] { (byte) i }), Kind.STATUS);
        }
        assertThat(cache.size()).isEqualTo(2);
    }

    @Test
    void repliesAreBoundedByBytesToo() {
        cache.lookupOrReserve(a, Kind.STATUS).fresh().complete(new byte[60]);
        ResponseCache.Key b = ResponseCache.Key.of("b", true, new byte[] { 1 });
        cache.lookupOrReserve(b, Kind.STATUS).fresh().complete(new byte[60]);

        assertThat(cache.size()).isEqualTo(1);
        assertThat(cache.bytes()).isEqualTo(60);
        assertThat(cache.lookupOrReserve(b, Kind.STATUS).hit()).isTrue();
    }
}
