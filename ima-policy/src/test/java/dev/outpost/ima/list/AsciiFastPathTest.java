package dev.outpost.ima.list;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.outpost.tpm.HashAlg;

/** The byte-level ima-ng path must give exactly what the general parser gives, and refuse what it refuses. */
class AsciiFastPathTest {

    @Test
    void imaNgLinesReadBackAsWritten() throws Exception {
        List<ImaEntry> written = new ArrayList<>();
        String[] names = {"/usr/bin/bash", "boot_aggregate", "/opt/caf\u00e9/\u65e5\u672c.so", "/a", "x".repeat(4000)};
        int i = 0;
        for (HashAlg alg : new HashAlg[] {HashAlg.SHA1, HashAlg.SHA256, HashAlg.SHA384, HashAlg.SHA512}) {
            for (String n : names) {
                written.add(ImaListWriter.imaNg(i++, alg, alg.digest(n.getBytes(StandardCharsets.UTF_8)), n));
            }
        }
        StringWriter w = new StringWriter();
        for (ImaEntry e : written) {
            ImaListWriter.writeAscii(w, e);
        }
        List<ImaEntry> read = new AsciiImaListReader(new ByteArrayInputStream(
                w.toString().replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8))).readAll();
        assertThat(read).hasSize(written.size());
        for (int k = 0; k < read.size(); k++) {
            ImaEntry a = written.get(k);
            ImaEntry b = read.get(k);
            assertThat(b.index()).isEqualTo(a.index());
            assertThat(b.pcr()).isEqualTo(a.pcr());
            assertThat(b.templateHash()).isEqualTo(a.templateHash());
            assertThat(b.template()).isEqualTo(a.template());
            assertThat(b.templateData()).isEqualTo(a.templateData());
            assertThat(b.digestAlg()).isEqualTo(a.digestAlg());
            assertThat(b.digest()).isEqualTo(a.digest());
            assertThat(b.path()).isEqualTo(a.path());
        }
    }

    @Test
    void whatTheFastPathDoesNotProveFallsToTheGeneralParserAndItsErrors() throws Exception {
        String h = "10 " + "ab".repeat(20) + " ";
        String d = "sha1:" + "00".repeat(20);
        // Upper-case hex is accepted by both paths alike.
        assertThat(read(h.toUpperCase() + "ima-ng " + d + " /a\n")).hasSize(1);
        assertThatThrownBy(() -> read(h + "ima-ng sha1:" + "0".repeat(39) + "g /a\n")).hasMessageContaining("line 1");
        assertThatThrownBy(() -> read(h + "ima-ng " + d + " /a\n" + "10 " + "ab".repeat(32) + " ima-ng " + d + " /b\n"))
                .hasMessageContaining("line 2: template hash length differs");
        assertThatThrownBy(() -> read("24 " + "ab".repeat(20) + " ima-ng " + d + " /a\n")).hasMessageContaining("out of range");
        assertThatThrownBy(() -> read(h + "ima-ng " + d + " /a\u0000b\n")).hasMessageContaining("NUL");
        assertThatThrownBy(() -> read(h + "ima-ng " + d + " /a b\n")).hasMessageContaining("unexpected field");
        byte[] badUtf8 = (h + "ima-ng " + d + " /\u00ff\n").getBytes(StandardCharsets.ISO_8859_1);
        assertThatThrownBy(() -> new AsciiImaListReader(new ByteArrayInputStream(badUtf8)).readAll())
                .hasMessageContaining("line 1: name is not valid UTF-8");
        assertThat(read("\n  \n" + h + "ima-ng " + d + " /a\n").get(0).index()).isZero();
    }

    private static List<ImaEntry> read(String s) throws Exception {
        return new AsciiImaListReader(new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8))).readAll();
    }
}
