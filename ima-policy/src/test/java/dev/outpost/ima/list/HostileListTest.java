package dev.outpost.ima.list;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.outpost.tpm.HashAlg;

class HostileListTest {

    private static byte[] list() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImaListWriter.writeBinary(out, ImaListWriter.imaNg(0, HashAlg.SHA256, new byte[32], "/a"));
        ImaListWriter.writeBinary(out, ImaListWriter.legacyIma(1, new byte[20], "/b"));
        return out.toByteArray();
    }

    private static List<ImaEntry> read(byte[] b) throws Exception {
        return ImaLists.open(new ByteArrayInputStream(b), ImaLimits.DEFAULT, 0).readAll();
    }

    @Test
    void everyTruncationIsACleanErrorWithItsOffset() throws Exception {
        byte[] full = list();
        int first = full.length - (4 + 20 + 4 + 3 + 20 + 4 + 2);
        for (int n = 1; n < full.length; n++) {
            byte[] cut = Arrays.copyOf(full, n);
            if (n == first) {
                assertThat(read(cut)).hasSize(1);
                continue;
            }
            assertThatThrownBy(() -> read(cut)).as("cut at %d", n).isInstanceOf(ImaFormatException.class)
                    .hasMessageContaining("truncated at offset");
        }
    }

    private static byte[] header(String template) {
        ByteBuffer b = ByteBuffer.allocate(4 + 20 + 4 + template.length()).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(10).put(new byte[20]).putInt(template.length()).put(template.getBytes(StandardCharsets.US_ASCII));
        return b.array();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static byte[] u32(long v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array();
    }

    @Test
    void iteratorViewStreamsTheSameEntries() throws Exception {
        var it = ImaLists.open(new ByteArrayInputStream(list()), ImaLimits.DEFAULT, 5).iterator();
        assertThat(it.next().index()).isEqualTo(5);
        assertThat(it.next().path()).isEqualTo("/b");
        assertThat(it.hasNext()).isFalse();
    }

    @Test
    void absurdLengthsAreRefusedBeforeAllocation() {
        assertThatThrownBy(() -> read(concat(header("ima-ng"), u32(0xffffffffL))))
                .hasMessageContaining("template data length 4294967295 exceeds");
        byte[] badName = concat(u32(10), new byte[20], u32(0xffffffffL));
        assertThatThrownBy(() -> read(badName)).hasMessageContaining("template name length 4294967295");
        assertThatThrownBy(() -> read(concat(header("ima"), new byte[20], u32(0xffffffffL))))
                .hasMessageContaining("legacy ima name length 4294967295");
        byte[] field = concat(u32(0xfffffff0L), new byte[8]);
        assertThatThrownBy(() -> read(concat(header("ima-ng"), u32(field.length), field)))
                .hasMessageContaining("claims 4294967280 bytes");
        assertThatThrownBy(() -> new BinaryImaListReader(new ByteArrayInputStream(concat(u32(99), new byte[40])))
                .next())
                .hasMessageContaining("PCR index 99 out of range");
        assertThatThrownBy(() -> read(concat(header("evil"), u32(0))))
                .hasMessageContaining("unsupported template \"evil\"");
    }

    @Test
    void tenMegabytePathsAreRefusedInBothFormats() throws Exception {
        String huge = "/" + "a".repeat(10 << 20);
        ImaEntry e = ImaListWriter.imaNg(0, HashAlg.SHA1, new byte[20], huge);
        ByteArrayOutputStream bin = new ByteArrayOutputStream();
        ImaListWriter.writeBinary(bin, e);
        assertThatThrownBy(() -> read(bin.toByteArray())).hasMessageContaining("exceeds the limit");
        byte[] ascii = ("10 " + "0".repeat(40) + " ima-ng sha1:" + "0".repeat(40) + " " + huge + "\n")
                .getBytes(StandardCharsets.US_ASCII);
        assertThatThrownBy(() -> read(ascii)).hasMessageContaining("line 1").hasMessageContaining("longer than");
        InputStream endless = new InputStream() {
            @Override
            public int read() {
                return 'a';
            }
        };
        assertThatThrownBy(() -> new AsciiImaListReader(endless).next()).hasMessageContaining("longer than");
    }

    @Test
    void invalidUtf8AndEmbeddedNulAreRefused() throws Exception {
        byte[] bad = {'/', (byte) 0xc3, (byte) 0x28};
        byte[] dng = concat("sha1:".getBytes(StandardCharsets.US_ASCII), new byte[1], new byte[20]);
        byte[] name = concat(bad, new byte[1]);
        byte[] data = concat(u32(dng.length), dng, u32(name.length), name);
        assertThatThrownBy(() -> read(concat(header("ima-ng"), u32(data.length), data)))
                .hasMessageContaining("not valid UTF-8");
        byte[] nul = concat("/a".getBytes(StandardCharsets.US_ASCII), new byte[1], "b".getBytes(), new byte[1]);
        byte[] data2 = concat(u32(dng.length), dng, u32(nul.length), nul);
        assertThatThrownBy(() -> read(concat(header("ima-ng"), u32(data2.length), data2)))
                .hasMessageContaining("NUL byte inside a name");
        byte[] ascii = concat(("10 " + "0".repeat(40) + " ima-ng sha1:" + "0".repeat(40) + " ").getBytes(), bad,
                "\n".getBytes());
        assertThatThrownBy(() -> read(ascii)).hasMessageContaining("line 1: name is not valid UTF-8");
    }

    @Test
    void malformedAsciiFieldsNameTheLine() {
        String h = "10 " + "0".repeat(40) + " ";
        assertThatThrownBy(() -> read((h + "ima-ng sha1:zz /a\n").getBytes())).hasMessageContaining("line 1");
        assertThatThrownBy(() -> read(("10 abc ima-ng sha1:" + "0".repeat(40) + " /a\n").getBytes()))
                .hasMessageContaining("template hash");
        assertThatThrownBy(() -> read((h + "ima-ng md5:" + "0".repeat(32) + " /a\n").getBytes()))
                .hasMessageContaining("invalid digest algorithm \"md5\"");
        assertThatThrownBy(() -> read((h + "ima-ng sha1:" + "0".repeat(40) + " /a extra\n").getBytes()))
                .hasMessageContaining("unexpected field");
    }
}
