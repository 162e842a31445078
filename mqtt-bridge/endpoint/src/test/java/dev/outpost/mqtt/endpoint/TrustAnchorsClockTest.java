package dev.outpost.mqtt.endpoint;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;

import org.junit.jupiter.api.Test;

/**
 * Client certificates are judged valid at the appliance's clock, not the JVM's: the same SVID (valid from a minute ago
 * to an hour from now by the wall clock) is accepted at the wall clock's time, refused as expired two hours on and as
 * not yet valid two hours back. A site whose clock is moved (a simulated outage) or set therefore agrees with itself.
 */
class TrustAnchorsClockTest {

    @Test
    void validityFollowsTheInjectedClock() {
        TestPki pki = TestPki.create("site CA");
        X509Certificate[] chain = {pki.svid("spiffe://outpost.test/agent/tpm/" + TestPki.randomDeviceId()).certificate()};
        Clock wall = Clock.systemUTC();

        assertThatCode(() -> new TrustAnchors(pki.caPem(), wall).checkClientTrusted(chain, "EC")).doesNotThrowAnyException();
        assertThatThrownBy(() -> new TrustAnchors(pki.caPem(), Clock.offset(wall, Duration.ofHours(2)))
                .checkClientTrusted(chain, "EC")).isInstanceOf(CertificateException.class);
        assertThatThrownBy(() -> new TrustAnchors(pki.caPem(), Clock.offset(wall, Duration.ofHours(-2)))
                .checkClientTrusted(chain, "EC")).isInstanceOf(CertificateException.class);
        // A chain to another CA is refused whatever the time.
        TestPki other = TestPki.create("other CA");
        assertThatThrownBy(() -> new TrustAnchors(other.caPem(), wall).checkClientTrusted(chain, "EC"))
                .isInstanceOf(CertificateException.class);
    }
}
