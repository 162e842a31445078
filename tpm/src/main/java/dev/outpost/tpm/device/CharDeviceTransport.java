package dev.outpost.tpm.device;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * The kernel's TPM character device (/dev/tpmrm0): one write carries a whole command, one read returns the
 * whole response. The in-kernel resource manager flushes what a closed file left loaded.
 */
final class CharDeviceTransport implements TpmTransport {
    private final FileChannel channel;
    private final Path path;

    CharDeviceTransport(Path path) throws IOException {
        this.path = path;
        this.channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
    }

    @Override
    public byte[] transact(byte[] command) throws IOException {
        ByteBuffer cmd = ByteBuffer.wrap(command);
        while (cmd.hasRemaining()) {
            channel.write(cmd);
        }
        ByteBuffer rsp = ByteBuffer.allocate(MAX_RESPONSE);
        int n = channel.read(rsp);
        if (n < 10) {
            throw new IOException(path + ": short TPM response (" + n + " bytes)");
        }
        return Arrays.copyOf(rsp.array(), n);
    }

    @Override
    public String describe() {
        return "device:" + path;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
