package dev.outpost.appliance.ca;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.testkit.MutableClock;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;

/**
 * Standalone rotation with ca.keyProtection: tpm: the next key is made sealed, the switch moves the sealed file, a
 * restart unseals the new CA, and a switch a crash cut short (sealed key moved, certificate not) is completed.
 */
@ExtendWith(SwtpmExtension.class)
class SealedRotationTest {
    static final String TD = "corp.example";

    @TempDir
    Path dir;

    @Test
    void rotationKeepsEveryKeySealed(Swtpm gateway) throws Exception {
        MutableClock clock = new MutableClock();
        Path caDir = dir.resolve("ca");
        CaKeys keys = CaKeys.tpm(gateway.uri(), null);
        SiteCa ca = SiteCa.loadOrCreate(caDir, keys, TD, "plant", Duration.ofHours(6), clock);
        X509Certificate first = ca.certificate();
        CaFiles files = new CaFiles(caDir, keys);
        CaRotation rotation = new CaRotation(ca, files, new CaInstaller(files, TD, "plant", clock),
                new SelfSigner(TD, "plant", Duration.ofHours(6), clock), clock, () -> { });
        assertThat(rotation.keyProtection()).isEqualTo("tpm (sealed to " + gateway.uri() + ", no PCR policy)");

        clock.advance(Duration.ofHours(3).plusMinutes(1));
        assertThat(rotation.tick()).isEqualTo(CaRotation.State.PREPARED);
        assertThat(names(caDir)).contains("next.key.sealed").doesNotContain("next.key", "ca.key");

        clock.advance(Duration.ofHours(2));
        assertThat(rotation.tick()).isEqualTo(CaRotation.State.NONE);
        X509Certificate second = ca.certificate();
        assertThat(second).isNotEqualTo(first);
        assertThat(names(caDir)).contains("ca.key.sealed").doesNotContain("ca.key", "next.key", "next.key.sealed");
        SiteCa reloaded = SiteCa.load(caDir, keys, TD, clock);
        assertThat(reloaded.certificate()).isEqualTo(second);

        // The next rotation, cut short by a crash after the sealed key moved: the next start completes it.
        clock.advance(Duration.ofHours(1));
        assertThat(rotation.tick()).isEqualTo(CaRotation.State.PREPARED);
        X509Certificate third = CaFiles.certs(caDir.resolve(CaFiles.NEXT_CERT)).get(0);
        Files.move(caDir.resolve("next.key.sealed"), caDir.resolve("ca.key.sealed"), StandardCopyOption.REPLACE_EXISTING);
        assertThat(new CaFiles(caDir, keys).recoverInterruptedSwitch()).isTrue();
        assertThat(SiteCa.load(caDir, keys, TD, clock).certificate()).isEqualTo(third);
        assertThat(names(caDir)).doesNotContain("ca.key", "next.key", "next.key.sealed", CaFiles.NEXT_CERT);
    }

    private static List<String> names(Path d) throws Exception {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }
}
