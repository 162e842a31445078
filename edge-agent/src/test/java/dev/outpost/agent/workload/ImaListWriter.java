package dev.outpost.agent.workload;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/** Writes binary IMA lists in the kernel's layout (ima-ng and the legacy ima template), for tests. */
final class ImaListWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    ImaListWriter imaNg(String algo, byte[] digest, String path) {
        byte[] prefix = (algo + ":\0").getBytes(StandardCharsets.US_ASCII);
        byte[] name = (path + "\0").getBytes(StandardCharsets.UTF_8);
        ByteBuffer data = ByteBuffer.allocate(4 + prefix.length + digest.length + 4 + name.length).order(ByteOrder.LITTLE_ENDIAN);
        data.putInt(prefix.length + digest.length).put(prefix).put(digest).putInt(name.length).put(name);
        return entry("ima-ng", data.array(), true);
    }

    ImaListWriter imaNgSha256(String hex, String path) {
        return imaNg("sha256", HexFormat.of().parseHex(hex), path);
    }

    /** The legacy template: a SHA-1 file digest and a name, without a template-data length. */
    ImaListWriter legacy(String path) {
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        ByteBuffer data = ByteBuffer.allocate(20 + 4 + name.length).order(ByteOrder.LITTLE_ENDIAN);
        data.put(new byte[20]).putInt(name.length).put(name);
        return entry("ima", data.array(), false);
    }

    private ImaListWriter entry(String template, byte[] data, boolean sized) {
        byte[] t = template.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(4 + 20 + 4 + t.length + (sized ? 4 : 0) + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(10).put(new byte[20]).putInt(t.length).put(t);
        if (sized) {
            b.putInt(data.length);
        }
        b.put(data);
        out.writeBytes(b.array());
        return this;
    }

    byte[] bytes() {
        return out.toByteArray();
    }
}
