package dev.outpost.appliance.enroll;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.util.Set;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.testkit.LocalEkCa;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.keys.DeviceId;
import dev.outpost.tpm.keys.EkTemplate;
import dev.outpost.tpm.keys.Endorsement;
import dev.outpost.tpm.keys.TpmKey;
import dev.outpost.tpm.wire.TpmPublic;
import dev.outpost.tpm.trust.EkTrust;
import dev.outpost.tpm.trust.EkTrustMode;
import dev.outpost.tpm.trust.ManufacturerCas;

/**
 * Each EK trust mode over real EK material from swtpms (EK certificates issued by this JVM's local EK CA):
 * {@code hash} trusts the allow-list alone, {@code cert} the chain alone, {@code both} needs the two, {@code either}
 * one of them.
 */
@ExtendWith(SwtpmExtension.class)
class EkTrustTest {
    private record Ek(String deviceId, TpmPublic pub, byte[] cert) {
    }

    private Ek ek;
    private Ek other;
    private ManufacturerCas swtpmCa;

    @BeforeEach
    void readEks(Swtpm swtpm, Swtpm second, @TempDir Path dir) throws Exception {
        ek = read(swtpm);
        other = read(second);
        Files.copy(LocalEkCa.get().rootCertificate(), dir.resolve("root.pem"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(LocalEkCa.get().issuerCertificate(), dir.resolve("issuer.pem"), StandardCopyOption.REPLACE_EXISTING);
        swtpmCa = ManufacturerCas.load(dir);
        assertThat(swtpmCa.roots()).isEqualTo(1);
    }

    private static Ek read(Swtpm swtpm) throws Exception {
        try (Tpm2 tpm = Tpm2.open(swtpm.uri()); TpmKey k = Endorsement.load(tpm, EkTemplate.RSA_2048)) {
            byte[] cert = Endorsement.readCertificate(tpm, EkTemplate.RSA_2048.certIndex()).orElseThrow();
            return new Ek(DeviceId.of(k.pub().publicKey()), k.pub(), cert);
        }
    }

    private EkTrust.Decision decide(EkTrustMode mode, Set<String> allowed, ManufacturerCas cas, byte[] cert) {
        return new EkTrust(mode, allowed::contains, cas, Clock.systemUTC()).decide(ek.deviceId(), ek.pub(), cert);
    }

    private Set<String> listed() {
        return Set.of(ek.deviceId());
    }

    @Test
    void hashTrustsTheAllowListAloneAndNeverTheChain() {
        // Listed: no certificate, a certificate of another EK, or no CA at all does not matter.
        for (byte[] cert : new byte[][] {null, other.cert(), ek.cert()}) {
            EkTrust.Decision d = decide(EkTrustMode.HASH, listed(), ManufacturerCas.none(), cert);
            assertThat(d.trusted()).isTrue();
            assertThat(d.via()).isEqualTo("allow-list");
        }
        // A valid chain to a trusted manufacturer does not admit an EK that is not listed.
        EkTrust.Decision chained = decide(EkTrustMode.HASH, Set.of(other.deviceId()), swtpmCa, ek.cert());
        assertThat(chained.trusted()).isFalse();
        assertThat(chained.reason()).contains(ek.deviceId()).contains("not on the allow-list");
    }

    @Test
    void certTrustsTheChainAloneAndNeverTheAllowList() {
        EkTrust.Decision d = decide(EkTrustMode.CERT, Set.of(), swtpmCa, ek.cert());
        assertThat(d.trusted()).isTrue();
        assertThat(d.via()).isEqualTo("certificate");

        // Listed, but without a certificate, with another EK's certificate, or with no trusted CA: refused.
        assertThat(decide(EkTrustMode.CERT, listed(), swtpmCa, null).reason())
                .isEqualTo("no EK certificate was presented");
        assertThat(decide(EkTrustMode.CERT, listed(), swtpmCa, other.cert()).reason())
                .isEqualTo("EK certificate is for another key than the EK presented");
        assertThat(decide(EkTrustMode.CERT, listed(), ManufacturerCas.none(), ek.cert()).reason())
                .isEqualTo("no manufacturer CA is configured");
        assertThat(decide(EkTrustMode.CERT, listed(), swtpmCa, new byte[] {0x30, 0x03, 1, 2, 3}).reason())
                .startsWith("EK certificate does not parse");
        assertThat(decide(EkTrustMode.CERT, listed(), swtpmCa, other.cert()).trusted()).isFalse();
    }

    @Test
    void bothNeedsTheAllowListAndTheChain() {
        EkTrust.Decision d = decide(EkTrustMode.BOTH, listed(), swtpmCa, ek.cert());
        assertThat(d.trusted()).isTrue();
        assertThat(d.via()).isEqualTo("allow-list+certificate");

        EkTrust.Decision unlisted = decide(EkTrustMode.BOTH, Set.of(), swtpmCa, ek.cert());
        assertThat(unlisted.trusted()).isFalse();
        assertThat(unlisted.reason()).contains("not on the allow-list (both required)");

        EkTrust.Decision noChain = decide(EkTrustMode.BOTH, listed(), ManufacturerCas.none(), ek.cert());
        assertThat(noChain.trusted()).isFalse();
        assertThat(noChain.reason()).isEqualTo("no manufacturer CA is configured (both required)");

        EkTrust.Decision noCert = decide(EkTrustMode.BOTH, listed(), swtpmCa, null);
        assertThat(noCert.trusted()).isFalse();
        assertThat(noCert.reason()).isEqualTo("no EK certificate was presented (both required)");

        EkTrust.Decision wrongCert = decide(EkTrustMode.BOTH, listed(), swtpmCa, other.cert());
        assertThat(wrongCert.trusted()).isFalse();
    }

    @Test
    void eitherTakesOneOfThem() {
        assertThat(decide(EkTrustMode.EITHER, listed(), ManufacturerCas.none(), null).via()).isEqualTo("allow-list");
        assertThat(decide(EkTrustMode.EITHER, Set.of(), swtpmCa, ek.cert()).via()).isEqualTo("certificate");
        EkTrust.Decision neither = decide(EkTrustMode.EITHER, Set.of(), swtpmCa, other.cert());
        assertThat(neither.trusted()).isFalse();
        assertThat(neither.reason()).startsWith("EK is not on the allow-list and ")
                .endsWith("certificate is for another key than the EK presented");
    }
}
