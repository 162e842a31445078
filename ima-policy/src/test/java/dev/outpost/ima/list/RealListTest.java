package dev.outpost.ima.list;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.nio.file.Files;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.outpost.ima.TestData;
import dev.outpost.ima.replay.ListReplayer;
import dev.outpost.ima.replay.ReplayResult;
import dev.outpost.tpm.HashAlg;

class RealListTest {

    private static ReplayResult replay(String file, HashAlg bank) throws Exception {
        try (InputStream in = Files.newInputStream(TestData.file(file));
                ImaEntryReader r = ImaLists.open(in, ImaLimits.DEFAULT, 0)) {
            return ListReplayer.replay(r, bank, null);
        }
    }

    @Test
    void rustKeylimeListReplaysToTheQuotedSha1Pcr10() throws Exception {
        ReplayResult r = replay("ima/rust-keylime/ascii_runtime_measurements", HashAlg.SHA1);
        assertThat(r.entries()).isEqualTo(826);
        assertThat(r.violations()).isZero();
        assertThat(r.badTemplateHashes()).isEmpty();
        assertThat(Hex.encode(r.pcr())).isEqualTo("82231c67a69da98dc5b3aa10f6343d33109225fc");
    }

    @Test
    void derivedSha256BankUsesTheBanksOwnHashOfTheTemplateData() throws Exception {
        ReplayResult r = replay("ima/rust-keylime/ascii_runtime_measurements", HashAlg.SHA256);
        assertThat(Hex.encode(r.pcr())).isEqualTo("c4a065637fc6a7c55f2811dd06cb45dd037133be2b3dc5c3e6fbe6bf061db724");
    }

    @ParameterizedTest
    @CsvSource({
        "ima-log-sha1, 1, 62e5bdf4783228f7deec959f0a89a4739af79ac5",
        "ima-log-sha256, 0, 8adcb4304b78ee782bbba3733b191591e75dc83d",
        "ima-log-sha384, 1, 3dfd156753bbf66afbb3c10b98bac02ed13b481c",
        "ima-log-sha512, 1, a37fb4ca32af8c94fefe8a4ce10d4b6dac5a7322",
    })
    void createRuntimePolicyListsPerAlgorithm(String name, long violations, String pcr) throws Exception {
        ReplayResult r = replay("ima/keylime/create-runtime-policy/" + name, HashAlg.SHA1);
        assertThat(r.entries()).isEqualTo(2);
        assertThat(r.violations()).isEqualTo(violations);
        assertThat(r.badTemplateHashes()).isEmpty();
        assertThat(Hex.encode(r.pcr())).isEqualTo(pcr);
    }

    @Test
    void sm3ListHasA64HexTemplateHashColumnThatIsSm3() throws Exception {
        ReplayResult r = replay("ima/keylime/create-runtime-policy/ima-log-sm3_256", HashAlg.SM3_256);
        assertThat(r.badTemplateHashes()).isEmpty();
        assertThat(r.violations()).isEqualTo(1);
        assertThat(Hex.encode(r.pcr()))
                .isEqualTo("9e6066a7981769154d79a1ce330020099eba2683e55729413b536a27bf517d81");
    }

    @Test
    void unknownDigestAlgorithmIsRejected() {
        assertThatThrownBy(() -> replay("ima/keylime/create-runtime-policy/ima-log-unknown", HashAlg.SHA1))
                .isInstanceOf(ImaFormatException.class).hasMessageContaining("invalid digest algorithm \"unknown\"");
    }

    @Test
    void oneLineListParsesAndEmptyAndInvalidDoNot() throws Exception {
        ReplayResult r = replay("ima/rust-keylime/ima_log.txt", HashAlg.SHA1);
        assertThat(Hex.encode(r.pcr())).isEqualTo("703b9083e1f35ae2faf8aee75f0541c709c53c77");
        assertThat(replay("ima/rust-keylime/empty_ima_log.txt", HashAlg.SHA1).entries()).isZero();
        assertThatThrownBy(() -> replay("ima/rust-keylime/invalid_ima_log.txt", HashAlg.SHA1))
                .isInstanceOf(ImaFormatException.class).hasMessageContaining("line 1");
    }

    @Test
    void asciiListRoundTripsThroughTheWriterInBothFormats() throws Exception {
        List<ImaEntry> entries;
        try (InputStream in = Files.newInputStream(TestData.file("ima/rust-keylime/ascii_runtime_measurements"))) {
            entries = new AsciiImaListReader(in).readAll();
        }
        java.io.StringWriter sw = new java.io.StringWriter();
        java.io.ByteArrayOutputStream bin = new java.io.ByteArrayOutputStream();
        for (ImaEntry e : entries) {
            ImaListWriter.writeAscii(sw, e);
            ImaListWriter.writeBinary(bin, e);
        }
        assertThat(sw.toString()).isEqualTo(Files.readString(
                TestData.file("ima/rust-keylime/ascii_runtime_measurements")));
        List<ImaEntry> back = new BinaryImaListReader(new java.io.ByteArrayInputStream(bin.toByteArray())).readAll();
        assertThat(back).hasSize(826);
        assertThat(back.get(825).path()).isEqualTo(entries.get(825).path());
        assertThat(back.get(825).templateData()).isEqualTo(entries.get(825).templateData());
    }
}
