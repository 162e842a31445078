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

    @Test
    void knownIdsHaveSharedCapacityOfTheirOwn() {
        RateLimiter l = new RateLimiter(new RateLimit(5, Duration.ofMinutes(1)), new RateLimit(2, Duration.ofMinutes(1)),
                RateLimiter.defaultAuthenticated(), "k"::equals, now::get);
        assertThat(l.tryAcquire("x", false)).isEqualTo(RateLimiter.Verdict.ALLOWED);
        assertThat(l.tryAcquire("y", false)).isEqualTo(RateLimiter.Verdict.ALLOWED);
        assertThat(l.tryAcquire("z", false)).isEqualTo(RateLimiter.Verdict.SHARED);
        assertThat(l.tryAcquire("k", false)).isEqualTo(RateLimiter.Verdict.ALLOWED);
    }

    @Test
    void svidHoldersHaveABucketPerDeviceAndNoSharedOne() {
        RateLimiter l = new RateLimiter(new RateLimit(1, Duration.ofMinutes(1)), new RateLimit(1, Duration.ofMinutes(1)),
                new RateLimit(3, Duration.ofMinutes(1)), KnownDevices.NONE, now::get);
        for (int i = 0; i < 3; i++) {
            assertThat(l.tryAcquire("a", true)).isEqualTo(RateLimiter.Verdict.ALLOWED);
            assertThat(l.tryAcquire("b" + i, true)).isEqualTo(RateLimiter.Verdict.ALLOWED);
        }
        assertThat(l.tryAcquire("a", true)).isEqualTo(RateLimiter.Verdict.DEVICE);
        now.addAndGet(Duration.ofSeconds(20).toNanos());
        assertThat(l.tryAcquire("a", true)).isEqualTo(RateLimiter.Verdict.ALLOWED);
    }
}
