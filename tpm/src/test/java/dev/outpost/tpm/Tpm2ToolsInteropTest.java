package dev.outpost.tpm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.outpost.tpm.credential.CredentialActivator;
import dev.outpost.tpm.credential.CredentialBlob;
import dev.outpost.tpm.credential.EkParameters;
import dev.outpost.tpm.credential.MakeCredential;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.keys.AkTemplate;
import dev.outpost.tpm.keys.AttestationKey;
import dev.outpost.tpm.keys.EkTemplate;
import dev.outpost.tpm.keys.Endorsement;
import dev.outpost.tpm.keys.QualifiedName;
import dev.outpost.tpm.keys.TpmKey;
import dev.outpost.tpm.quote.QuoteEvidence;
import dev.outpost.tpm.quote.QuoteExpectation;
import dev.outpost.tpm.quote.QuoteResult;
import dev.outpost.tpm.quote.QuoteVerifier;
import dev.outpost.tpm.quote.Quoter;
import dev.outpost.tpm.wire.PcrFile;
import dev.outpost.tpm.wire.PcrSelection;
import dev.outpost.tpm.wire.TpmPublic;
import dev.outpost.testkit.ProcessRunner;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;

/** Our quotes and credentials against tpm2-tools' on the same swtpm, both directions. */
@ExtendWith(SwtpmExtension.class)
class Tpm2ToolsInteropTest {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final HexFormat HEX = HexFormat.of();

    @ParameterizedTest
    @ValueSource(strings = {"RSA_2048", "ECC_P256"})
    void ourQuoteVerifiesWithTpm2Checkquote(String akType, Swtpm swtpm, @TempDir Path dir) throws Exception {
        byte[] nonce = random(16);
        PcrSelection sel = PcrSelection.parse("sha256:0,1,2,3,4,5,6,7,8,9,10+sha1:10");
        try (Tpm2 tpm = Tpm2.open(swtpm.uri()); TpmKey ek = Endorsement.load(tpm, EkTemplate.RSA_2048)) {
            AttestationKey ak = AttestationKey.create(tpm, ek, AkTemplate.valueOf(akType));
            QuoteEvidence q;
            try (TpmKey loaded = ak.load(tpm, ek)) {
                q = Quoter.quote(tpm, loaded, nonce, sel);
            }
            Files.write(dir.resolve("ak.pub"), ak.pub().encodedSized());
            Files.write(dir.resolve("quote.msg"), q.attest());
            Files.write(dir.resolve("quote.sig"), q.signature());
            Files.write(dir.resolve("quote.pcrs"), PcrFile.write(q.pcrs(), sel));
        }
        ProcessRunner.Result r = checkquote(swtpm, dir, HEX.formatHex(nonce));
        assertThat(r.exitCode()).as(r.toString()).isZero();

        // The same files with a wrong nonce must fail there too: the check is not vacuous.
        assertThat(checkquote(swtpm, dir, HEX.formatHex(random(16))).exitCode()).isNotZero();
    }

    private static ProcessRunner.Result checkquote(Swtpm swtpm, Path dir, String nonce) {
        return swtpm.tpm2(dir, "tpm2_checkquote", "-u", "ak.pub", "-m", "quote.msg", "-s", "quote.sig",
                "-f", "quote.pcrs", "-g", "sha256", "-q", nonce);
    }

    @ParameterizedTest
    @ValueSource(strings = {"rsa", "ecc"})
    void tpm2QuoteVerifiesWithOurs(String alg, Swtpm swtpm, @TempDir Path dir) throws Exception {
        byte[] nonce = random(20);
        swtpm.tpm2(dir, "tpm2_createek", "-c", "ek.ctx", "-G", "rsa", "-u", "ek.pub").assertSuccess();
        swtpm.tpm2(dir, "tpm2_createak", "-C", "ek.ctx", "-c", "ak.ctx", "-G", alg, "-g", "sha256",
                "-s", alg.equals("rsa") ? "rsassa" : "ecdsa", "-u", "ak.pub", "-n", "ak.name").assertSuccess();
        swtpm.tpm2(dir, "tpm2_quote", "-c", "ak.ctx", "-l", "sha256:0,1,10+sha1:0", "-q", HEX.formatHex(nonce),
                "-m", "quote.msg", "-s", "quote.sig", "-o", "quote.pcrs", "-g", "sha256").assertSuccess();

        TpmPublic ek = TpmPublic.parseSized(Files.readAllBytes(dir.resolve("ek.pub")));
        TpmPublic ak = TpmPublic.parseSized(Files.readAllBytes(dir.resolve("ak.pub")));
        assertThat(ak.name()).isEqualTo(Files.readAllBytes(dir.resolve("ak.name")));
        QuoteExpectation expected = QuoteExpectation.of(ak, QualifiedName.ofAkUnderEk(ek, ak), nonce,
                PcrSelection.parse("sha256:0,1,10+sha1:0"));
        QuoteResult r = new QuoteVerifier().verify(expected, Files.readAllBytes(dir.resolve("quote.msg")),
                Files.readAllBytes(dir.resolve("quote.sig")), PcrFile.read(Files.readAllBytes(dir.resolve("quote.pcrs"))));
        assertThat(r.describe()).isEqualTo("valid");
    }

    @ParameterizedTest
    @ValueSource(strings = {"rsa", "ecc"})
    void ourCredentialIsActivatedByTpm2Tools(String ekAlg, Swtpm swtpm, @TempDir Path dir) throws Exception {
        swtpm.tpm2(dir, "tpm2_createek", "-c", "ek.ctx", "-G", ekAlg, "-u", "ek.pub").assertSuccess();
        swtpm.tpm2(dir, "tpm2_createak", "-C", "ek.ctx", "-c", "ak.ctx", "-G", "rsa", "-g", "sha256",
                "-s", "rsassa", "-u", "ak.pub", "-n", "ak.name").assertSuccess();
        byte[] secret = random(32);
        TpmPublic ek = TpmPublic.parseSized(Files.readAllBytes(dir.resolve("ek.pub")));
        CredentialBlob blob = new MakeCredential().make(EkParameters.of(ek), Files.readAllBytes(dir.resolve("ak.name")), secret);
        Files.write(dir.resolve("cred.bin"), blob.toFile());

        assertThat(activateWithTools(swtpm, dir).exitCode()).isZero();
        assertThat(Files.readAllBytes(dir.resolve("secret.out"))).isEqualTo(secret);

        // A credential made for another key's name is refused by the TPM.
        byte[] otherName = Files.readAllBytes(dir.resolve("ak.name"));
        otherName[5] ^= 1;
        Files.write(dir.resolve("cred.bin"), new MakeCredential().make(EkParameters.of(ek), otherName, secret).toFile());
        Files.deleteIfExists(dir.resolve("secret.out"));
        assertThat(activateWithTools(swtpm, dir).exitCode()).isNotZero();
    }

    private static ProcessRunner.Result activateWithTools(Swtpm swtpm, Path dir) {
        swtpm.tpm2(dir, "tpm2_startauthsession", "--policy-session", "-S", "session.ctx").assertSuccess();
        swtpm.tpm2(dir, "tpm2_policysecret", "-S", "session.ctx", "-c", "e").assertSuccess();
        ProcessRunner.Result r = swtpm.tpm2(dir, "tpm2_activatecredential", "-c", "ak.ctx", "-C", "ek.ctx",
                "-i", "cred.bin", "-o", "secret.out", "-P", "session:session.ctx");
        swtpm.tpm2(dir, "tpm2_flushcontext", "session.ctx");
        return r;
    }

    @Test
    void tpm2MakecredentialIsActivatedByOurs(Swtpm swtpm, @TempDir Path dir) throws Exception {
        byte[] secret = random(32);
        AttestationKey ak;
        AttestationKey other;
        // swtpm serves one client at a time: our connection is closed while tpm2-tools runs.
        try (Tpm2 tpm = Tpm2.open(swtpm.uri()); TpmKey ek = Endorsement.load(tpm, EkTemplate.RSA_2048)) {
            ak = AttestationKey.create(tpm, ek, AkTemplate.RSA_2048);
            other = AttestationKey.create(tpm, ek, AkTemplate.RSA_2048);
            Files.write(dir.resolve("ek.pub"), ek.pub().encodedSized());
        }
        Files.write(dir.resolve("secret.bin"), secret);
        swtpm.tpm2(dir, "tpm2_makecredential", "-T", "none", "-u", "ek.pub", "-s", "secret.bin",
                "-n", HEX.formatHex(ak.pub().name()), "-o", "cred.bin").assertSuccess();
        CredentialBlob blob = CredentialBlob.fromFile(Files.readAllBytes(dir.resolve("cred.bin")));
        try (Tpm2 tpm = Tpm2.open(swtpm.uri()); TpmKey ek = Endorsement.load(tpm, EkTemplate.RSA_2048)) {
            try (TpmKey loaded = ak.load(tpm, ek)) {
                assertThat(CredentialActivator.activate(tpm, loaded, ek, blob)).isEqualTo(secret);
            }
            // The same blob offered to another AK of the same TPM does not open.
            try (TpmKey loaded = other.load(tpm, ek)) {
                assertThatThrownBy(() -> CredentialActivator.activate(tpm, loaded, ek, blob))
                        .isInstanceOf(CredentialActivator.CredentialRefusedException.class)
                        .hasMessageContaining("INTEGRITY");
            }
        }
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }
}
