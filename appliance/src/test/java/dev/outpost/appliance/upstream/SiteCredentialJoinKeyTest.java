package dev.outpost.appliance.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.Signature;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The join key survives a lost answer: every attempt until the credential is stored sends the same key (central
 * answers a repeated join only for it), kept owner-only, and gone once joined.
 */
class SiteCredentialJoinKeyTest {
    @TempDir
    Path dir;

    @Test
    void everyAttemptUntilJoinedUsesTheSameKey() throws Exception {
        SiteCredential c = new SiteCredential(dir);
        KeyPair first = c.joinKey();
        Path file = dir.resolve(SiteCredential.JOIN_KEY_FILE);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");

        KeyPair again = new SiteCredential(dir).joinKey();
        assertThat(again.getPublic()).isEqualTo(first.getPublic());
        // The public half is derived from the stored private key: it must really be its pair.
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initSign(again.getPrivate());
        s.update(new byte[] {1, 2, 3});
        byte[] sig = s.sign();
        Signature v = Signature.getInstance("SHA256withECDSA");
        v.initVerify(first.getPublic());
        v.update(new byte[] {1, 2, 3});
        assertThat(v.verify(sig)).isTrue();

        c.joined();
        assertThat(file).doesNotExist();
        assertThat(c.joinKey().getPublic()).isNotEqualTo(first.getPublic());
    }

    @Test
    void aBrokenJoinKeyFileIsNamed() throws Exception {
        Files.writeString(dir.resolve(SiteCredential.JOIN_KEY_FILE), "not a key");
        Files.setPosixFilePermissions(dir.resolve(SiteCredential.JOIN_KEY_FILE), PosixFilePermissions.fromString("rw-------"));
        assertThatThrownBy(() -> new SiteCredential(dir).joinKey()).hasMessageContaining(SiteCredential.JOIN_KEY_FILE);
    }
}
