package dev.outpost.appliance.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.testkit.MutableClock;

/**
 * SPIRE's rotation rule on a moved clock, without devices: prepare at 1/2 of the lifetime left (next CA in the bundle
 * before it signs anything), activate at 1/6 (new SVIDs from the new CA), the old authority kept until it expires; in
 * standalone mode (self-signed next root), in nested mode with the file flow (openssl signs the next CA), offline
 * (retrying with the reason), and an expired CA recovered by install.
 */
class CaRotationTest {
    static final String TD = "corp.example";
    static final String DEVICE = "ef".repeat(32);

    @TempDir
    Path dir;

    @Test
    void standaloneRotatesAtHalfAndSixthAndKeepsTheOldRootUntilItExpires() throws Exception {
        MutableClock clock = new MutableClock();
        Path caDir = dir.resolve("ca");
        SiteCa ca = SiteCa.loadOrCreate(caDir, TD, "plant", Duration.ofHours(6), clock);
        X509Certificate first = ca.certificate();
        AtomicInteger bundleChanges = new AtomicInteger();
        CaFiles files = new CaFiles(caDir);
        CaRotation rotation = new CaRotation(ca, files, new CaInstaller(files, TD, "plant", clock),
                new SelfSigner(TD, "plant", Duration.ofHours(6), clock), clock, bundleChanges::incrementAndGet);

        assertThat(rotation.tick()).isEqualTo(CaRotation.State.NONE);
        clock.advance(Duration.ofHours(2));
        assertThat(rotation.tick()).isEqualTo(CaRotation.State.NONE);
        assertThat(bundleChanges).hasValue(0);

        clock.advance(Duration.ofHours(1).plusMinutes(1));
        assertThat(rotation.tick()).isEqualTo(CaRotation.State.PREPARED);
        assertThat(bundleChanges).as("the next root is published at once").hasValue(1);
        assertThat(ca.trustAnchors()).hasSize(2).contains(first);
        assertThat(ca.certificate()).as("but does not sign yet").isEqualTo(first);
        IssuedSvid old = ca.issueNodeSvid(key(), DEVICE, Duration.ofMinutes(150));
        assertThat(caDir.resolve(CaFiles.NEXT_CERT)).exists();

        clock.advance(Duration.ofHours(2));
        assertThat(rotation.tick()).isEqualTo(CaRotation.State.NONE);
        X509Certificate second = ca.certificate();
        assertThat(second).isNotEqualTo(first);
        assertThat(ca.trustAnchors()).as("old root kept while its SVIDs may be out").containsExactlyInAnyOrder(first, second);
        IssuedSvid renewed = ca.issueNodeSvid(key(), DEVICE, Duration.ofHours(1));
        assertThat(renewed.certificate().getIssuerX500Principal()).isEqualTo(second.getSubjectX500Principal());
        verifies(old, ca.trustAnchors(), clock);
        verifies(renewed, ca.trustAnchors(), clock);
        assertThat(caDir.resolve(CaFiles.NEXT_CERT)).doesNotExist();
        assertThat(caDir.resolve(CaFiles.PREVIOUS_CERT)).exists();

        // A restart in between loads the new CA and still publishes the old root.
        SiteCa reloaded = SiteCa.loadOrCreate(caDir, TD, "plant", Duration.ofHours(6), clock);
        CaRotation again = new CaRotation(reloaded, files, new CaInstaller(files, TD, "plant", clock),
                new SelfSigner(TD, "plant", Duration.ofHours(6), clock), clock, () -> { });
        again.tick();
        assertThat(reloaded.certificate()).isEqualTo(second);
        assertThat(reloaded.trustAnchors()).containsExactlyInAnyOrder(first, second);

        int before = bundleChanges.get();
        clock.advance(Duration.ofHours(1).plusMinutes(1));
        rotation.tick();
        // The first CA has expired: its root leaves the bundle. (The second, made at 3 h, is itself past half its
        // life by now, so its successor is published in the same step.)
        assertThat(ca.trustAnchors()).as("dropped once the old CA has expired").doesNotContain(first).contains(second);
        assertThat(rotation.state()).isEqualTo(CaRotation.State.PREPARED);
        assertThat(bundleChanges.get()).isGreaterThan(before);
    }

    @Test
    void aJumpPastTheSixthStillPublishesBeforeActivating() throws Exception {
        MutableClock clock = new MutableClock();
        Path caDir = dir.resolve("ca");
        SiteCa ca = SiteCa.loadOrCreate(caDir, TD, "plant", Duration.ofHours(6), clock);
        X509Certificate first = ca.certificate();
        CaFiles files = new CaFiles(caDir);
        CaRotation rotation = new CaRotation(ca, files, new CaInstaller(files, TD, "plant", clock),
                new SelfSigner(TD, "plant", Duration.ofHours(6), clock), clock, () -> { });
        clock.advance(Duration.ofHours(5).plusMinutes(30));
        assertThat(rotation.tick()).isEqualTo(CaRotation.State.PREPARED);
        assertThat(ca.certificate()).isEqualTo(first);
        assertThat(rotation.tick()).isEqualTo(CaRotation.State.NONE);
        assertThat(ca.certificate()).isNotEqualTo(first);
    }

    @Test
    void nestedFileFlowRotationWithOpensslAndOfflineAndExpiry() throws Exception {
        OpensslCa root = OpensslCa.root(dir.resolve("up"), "Corp Root");
        MutableClock clock = new MutableClock();
        Path caDir = dir.resolve("ca");
        CaFiles files = new CaFiles(caDir);
        CaInstaller installer = new CaInstaller(files, TD, "plant", clock);
        Path csr = Files.writeString(dir.resolve("site.csr"), installer.csr(false));
        Path cert = root.sign(csr, OpensslCa.siteCaExtensions(TD), 90, dir.resolve("site.pem"));
        assertThat(installer.install(Files.readString(cert), Files.readString(root.pem()), false))
                .isEqualTo(CaInstaller.Outcome.ACTIVE);
        SiteCa ca = SiteCa.load(caDir, TD, clock);
        X509Certificate first = ca.certificate();
        List<X509Certificate> rootOnly = ca.trustAnchors();
        assertThat(rootOnly).hasSize(1);
        CaRotation rotation = new CaRotation(ca, files, installer, null, clock, () -> { });

        clock.advance(Duration.ofDays(46));
        assertThat(rotation.tick()).isEqualTo(CaRotation.State.AWAITING_INSTALL);
        assertThat(caDir.resolve(CaFiles.NEXT_CSR)).exists();
        IssuedSvid old = ca.issueNodeSvid(key(), DEVICE, Duration.ofHours(1));

        // The operator signs the request rotation left (or one from `ca csr`) and installs it while running.
        Path nextCert = root.sign(caDir.resolve(CaFiles.NEXT_CSR), OpensslCa.siteCaExtensions(TD), 90,
                dir.resolve("next.pem"));
        assertThat(rotation.install(Files.readString(nextCert), Files.readString(root.pem())))
                .isEqualTo(CaInstaller.Outcome.NEXT);
        assertThat(rotation.tick()).isEqualTo(CaRotation.State.PREPARED);
        assertThat(ca.certificate()).isEqualTo(first);
        assertThat(ca.trustAnchors()).as("same root: the bundle does not move").isEqualTo(rootOnly);

        clock.advance(Duration.ofDays(30));
        assertThat(rotation.tick()).isEqualTo(CaRotation.State.NONE);
        assertThat(ca.certificate()).isNotEqualTo(first);
        IssuedSvid renewed = ca.issueNodeSvid(key(), DEVICE, Duration.ofHours(1));
        assertThat(renewed.chain()).hasSize(2);
        assertThat(renewed.chain().get(1)).isEqualTo(ca.certificate());
        verifies(renewed, rootOnly, clock);
        // The old SVID's chain carries the old site CA, still valid under the same root.
        verifies(old, rootOnly, Clock.offset(clock, Duration.ofDays(-30)));

        // Cut off past the new CA's end: expired, refuses to issue, recovered by install (no re-enrollment needed:
        // nothing about devices lives in the CA).
        clock.advance(Duration.ofDays(200));
        assertThat(rotation.tick()).isEqualTo(CaRotation.State.EXPIRED);
        assertThat(rotation.reason()).startsWith("ca expired");
        assertThatThrownBy(() -> ca.issueNodeSvid(key(), DEVICE, Duration.ofHours(1))).hasMessageContaining("ca expired");
        OpensslCa later = OpensslCa.root(dir.resolve("up2"), "Corp Root 2");
        // openssl signs from the real now; judge the recovery at a clock that matches.
        MutableClock real = new MutableClock();
        SiteCa expired = SiteCa.load(caDir, TD, Clock.offset(real, Duration.ofDays(400)));
        CaInstaller installer2 = new CaInstaller(files, TD, "plant", real);
        CaRotation recovering = new CaRotation(expired, files, installer2, null, Clock.offset(real, Duration.ofDays(400)),
                () -> { });
        assertThat(recovering.tick()).isEqualTo(CaRotation.State.EXPIRED);
        Path recoveryCsr = Files.writeString(dir.resolve("recovery.csr"), recovering.csr(false));
        Path recovery = later.sign(recoveryCsr, OpensslCa.siteCaExtensions(TD), 90, dir.resolve("recovery.pem"));
        assertThat(installer2.install(Files.readString(recovery), Files.readString(later.pem()), false))
                .isEqualTo(CaInstaller.Outcome.ACTIVE);
        SiteCa recovered = SiteCa.load(caDir, TD, real);
        assertThat(recovered.expired()).isFalse();
        verifies(recovered.issueNodeSvid(key(), DEVICE, Duration.ofHours(1)), recovered.trustAnchors(), real);
    }

    @Test
    void offlineAtPrepareKeepsTryingWithBackOffAndSaysWhy() throws Exception {
        MutableClock clock = new MutableClock();
        Path caDir = dir.resolve("ca");
        SiteCa ca = SiteCa.loadOrCreate(caDir, TD, "plant", Duration.ofHours(6), clock);
        CaFiles files = new CaFiles(caDir);
        AtomicInteger attempts = new AtomicInteger();
        NextCaSigner offline = new NextCaSigner() {
            @Override
            public Signed sign(java.security.KeyPair key, String csrPem) throws Exception {
                attempts.incrementAndGet();
                throw new java.io.IOException("central unreachable (connection refused)");
            }

            @Override
            public String describe() {
                return "central (test)";
            }
        };
        CaRotation rotation = new CaRotation(ca, files, new CaInstaller(files, TD, "plant", clock), offline, clock,
                () -> { });
        clock.advance(Duration.ofHours(3).plusMinutes(1));
        assertThat(rotation.tick()).isEqualTo(CaRotation.State.RETRYING);
        assertThat(rotation.reason()).contains("connection refused");
        assertThat(rotation.tick()).isEqualTo(CaRotation.State.RETRYING);
        assertThat(attempts).as("back-off: no second attempt within the first minute").hasValue(1);
        clock.advance(CaRotation.FIRST_RETRY);
        rotation.tick();
        assertThat(attempts).hasValue(2);
        clock.advance(CaRotation.FIRST_RETRY);
        rotation.tick();
        assertThat(attempts).as("the wait doubled").hasValue(2);
        assertThat(files.hasNextKey()).as("the key is made: `ca csr` can take over").isTrue();
        assertThat(rotation.describe()).containsEntry("state", "retrying");
    }

    @Test
    void aSwitchCutShortByACrashIsCompletedAtTheNextLook() throws Exception {
        MutableClock clock = new MutableClock();
        Path caDir = dir.resolve("ca");
        SiteCa ca = SiteCa.loadOrCreate(caDir, TD, "plant", Duration.ofHours(6), clock);
        CaFiles files = new CaFiles(caDir);
        CaRotation rotation = new CaRotation(ca, files, new CaInstaller(files, TD, "plant", clock),
                new SelfSigner(TD, "plant", Duration.ofHours(6), clock), clock, () -> { });
        clock.advance(Duration.ofHours(3).plusMinutes(1));
        assertThat(rotation.tick()).isEqualTo(CaRotation.State.PREPARED);
        X509Certificate next = PemIoCerts.first(caDir.resolve(CaFiles.NEXT_CERT));
        // The crash: the key moved, the certificate did not.
        Files.move(caDir.resolve(CaFiles.NEXT_KEY), caDir.resolve(SiteCa.KEY_FILE),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> SiteCa.loadOrCreate(caDir, TD, "plant", Duration.ofHours(6), clock))
                .hasMessageContaining("is not the key of the certificate");
        assertThat(files.recoverInterruptedSwitch()).isTrue();
        assertThat(SiteCa.loadOrCreate(caDir, TD, "plant", Duration.ofHours(6), clock).certificate()).isEqualTo(next);
        assertThat(files.recoverInterruptedSwitch()).as("nothing left to do").isFalse();
    }

    /** First certificate of a PEM file. */
    static final class PemIoCerts {
        static X509Certificate first(Path p) throws Exception {
            return dev.outpost.spiffe.PemIo.certificates(Files.readString(p), 8).get(0);
        }
    }

    private static PublicKey key() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair().getPublic();
    }

    static void verifies(IssuedSvid svid, List<X509Certificate> anchors, Clock at) throws Exception {
        PKIXParameters p = new PKIXParameters(anchors.stream().map(a -> new TrustAnchor(a, null)).collect(Collectors.toSet()));
        p.setRevocationEnabled(false);
        p.setDate(Date.from(at.instant()));
        CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(svid.chain()), p);
    }
}
