package dev.outpost.appliance.ca;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.SignedJWT;

import dev.outpost.spiffe.SpiffeJwks;
import dev.outpost.testkit.MutableClock;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;

/** The site JWT authority: kept like the CA key (0600 or sealed), rotated with the CA, retired keys kept then pruned. */
@ExtendWith(SwtpmExtension.class)
class JwtAuthorityTest {

    @Test
    void signsEs256TokensThatItsPublishedKeysVerifyAndRotatesWithTheCa(@TempDir Path dir) throws Exception {
        MutableClock clock = new MutableClock();
        JwtAuthority a = JwtAuthority.loadOrCreate(dir, CaKeys.file(), clock);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("jwt.key")))).isEqualTo("rw-------");
        String first = a.kid();
        assertThat(JwtAuthority.loadOrCreate(dir, CaKeys.file(), clock).kid()).as("the same key after a restart").isEqualTo(first);

        Instant now = clock.instant();
        String token = a.sign("spiffe://outpost.test/app", List.of("a", "b"), now, now.plusSeconds(60), "j1");
        SignedJWT jwt = SignedJWT.parse(token);
        assertThat(jwt.getHeader().getAlgorithm().getName()).isEqualTo("ES256");
        assertThat(jwt.getHeader().getKeyID()).isEqualTo(first);
        // ES256 in JWS is r||s, 64 bytes, not DER.
        assertThat(jwt.getSignature().decode()).hasSize(64);
        ECKey published = (ECKey) JWKSet.parse(a.jwks()).getKeyByKeyId(first);
        assertThat(jwt.verify(new ECDSAVerifier(published))).isTrue();
        assertThat(SpiffeJwks.kidOf(published.toECPublicKey())).isEqualTo(first);

        // The next CA is prepared: its JWT key is published at once, but the active one still signs.
        assertThat(a.prepareNext()).isTrue();
        assertThat(a.prepareNext()).isFalse();
        assertThat(a.published()).hasSize(2).containsKey(first);
        String next = a.published().keySet().stream().filter(k -> !k.equals(first)).findFirst().orElseThrow();
        assertThat(a.kid()).isEqualTo(first);
        assertThat(JwtAuthority.loadOrCreate(dir, CaKeys.file(), clock).published()).containsOnlyKeys(first, next);

        // The CA switches: the next key signs, the former stays published for the longest token life.
        a.activateNext(Duration.ofHours(1));
        assertThat(a.kid()).isEqualTo(next);
        assertThat(a.published()).containsOnlyKeys(next, first);
        assertThat(Files.exists(dir.resolve(JwtAuthority.NEXT_KEY_FILE))).isFalse();
        JwtAuthority reloaded = JwtAuthority.loadOrCreate(dir, CaKeys.file(), clock);
        assertThat(reloaded.kid()).isEqualTo(next);
        assertThat(reloaded.published()).containsOnlyKeys(next, first);
        assertThat(a.prune()).isFalse();
        clock.advance(Duration.ofHours(1).plusSeconds(1));
        assertThat(a.published()).containsOnlyKeys(next);
        assertThat(a.prune()).isTrue();
        assertThat(JwtAuthority.loadOrCreate(dir, CaKeys.file(), clock).published()).containsOnlyKeys(next);
    }

    @Test
    void aSwitchCutShortAfterTheKeyMovedIsFinishedAtTheNextStart(@TempDir Path dir) throws Exception {
        MutableClock clock = new MutableClock();
        JwtAuthority a = JwtAuthority.loadOrCreate(dir, CaKeys.file(), clock);
        a.prepareNext();
        // The crash: jwt.key already holds the next key, next-jwt.key is still there.
        Files.copy(dir.resolve(JwtAuthority.NEXT_KEY_FILE), dir.resolve(JwtAuthority.KEY_FILE),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        JwtAuthority after = JwtAuthority.loadOrCreate(dir, CaKeys.file(), clock);
        assertThat(after.published()).containsOnlyKeys(after.kid());
        assertThat(Files.exists(dir.resolve(JwtAuthority.NEXT_KEY_FILE))).isFalse();
    }

    @Test
    void underKeyProtectionTpmTheJwtKeysAreSealedLikeTheCaKey(Swtpm gateway, @TempDir Path dir) throws Exception {
        MutableClock clock = new MutableClock();
        CaKeys sealed = CaKeys.tpm(gateway.uri(), null);
        JwtAuthority a = JwtAuthority.loadOrCreate(dir, sealed, clock);
        a.prepareNext();
        assertThat(Files.exists(dir.resolve("jwt.key.sealed"))).isTrue();
        assertThat(Files.exists(dir.resolve("next-jwt.key.sealed"))).isTrue();
        assertThat(Files.exists(dir.resolve("jwt.key"))).isFalse();
        assertThat(Files.exists(dir.resolve("next-jwt.key"))).isFalse();
        assertThat(new String(Files.readAllBytes(dir.resolve("jwt.key.sealed")), java.nio.charset.StandardCharsets.ISO_8859_1))
                .doesNotContain("PRIVATE KEY");
        JwtAuthority reloaded = JwtAuthority.loadOrCreate(dir, sealed, clock);
        assertThat(reloaded.kid()).isEqualTo(a.kid());
        assertThat(reloaded.published()).isEqualTo(a.published());

        // file -> tpm: a plain jwt.key is sealed at start like ca.key.
        Path plainDir = Files.createDirectory(dir.resolve("plain"));
        String kid = JwtAuthority.loadOrCreate(plainDir, CaKeys.file(), clock).kid();
        assertThat(sealed.migrate(plainDir)).contains("jwt.key");
        assertThat(Files.exists(plainDir.resolve("jwt.key"))).isFalse();
        assertThat(JwtAuthority.loadOrCreate(plainDir, sealed, clock).kid()).isEqualTo(kid);
    }
}
