package dev.outpost.mqtt.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

class RateLimiterTest {
    private final AtomicLong now = new AtomicLong();

    @Test
    void perDeviceBucketsRefillOverTime() {
        RateLimiter l = new RateLimiter(new RateLimit(2, Duration.ofMinutes(1)), new RateLimit(100, Duration.ofMinutes(1)),
                now::get);

        assertThat(l.tryAcquire("a")).isTrue();
        assertThat(l.tryAcquire("a")).isTrue();
        assertThat(l.tryAcquire("a")).isFalse();
        assertThat(l.tryAcquire("b")).isTrue();
        now.addAndGet(Duration.ofSeconds(30).toNanos());
        assertThat(l.tryAcquire("a")).isTrue();
        assertThat(l.tryAcquire("a")).isFalse();
    }

    @Test
    void theGlobalBucketCapsDevicesThatClaimFreshIds() {
        RateLimiter l = new RateLimiter(new RateLimit(5, Duration.ofMinutes(1)), new RateLimit(3, Duration.ofMinutes(1)),
                now::get);

        assertThat(l.tryAcquire("a")).isTrue();
        assertThat(l.tryAcquire("b")).isTrue();
        assertThat(l.tryAcquire("c")).isTrue();
        assertThat(l.tryAcquire("d")).isFalse();
    }
}
