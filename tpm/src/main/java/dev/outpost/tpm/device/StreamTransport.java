package dev.outpost.tpm.device;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * The raw TPM 2.0 command stream over a socket, as swtpm's data channel speaks it: write the command,
 * read the 10-byte response header, then the rest of the size it announces.
 */
final class StreamTransport implements TpmTransport {
    private final AutoCloseable connection;
    private final DataInputStream in;
    private final OutputStream out;
    private final String description;

    StreamTransport(AutoCloseable connection, InputStream in, OutputStream out, String description) {
        this.connection = connection;
        this.in = new DataInputStream(in);
        this.out = out;
        this.description = description;
    }

    @Override
    public byte[] transact(byte[] command) throws IOException {
        out.write(command);
        out.flush();
        byte[] header = new byte[10];
        in.readFully(header);
        int size = ((header[2] & 0xFF) << 24) | ((header[3] & 0xFF) << 16) | ((header[4] & 0xFF) << 8) | (header[5] & 0xFF);
        if (size < 10 || size > MAX_RESPONSE) {
            throw new IOException(description + ": TPM response announces " + Integer.toUnsignedString(size) + " bytes");
        }
        byte[] response = new byte[size];
        System.arraycopy(header, 0, response, 0, 10);
        in.readFully(response, 10, size - 10);
        return response;
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public void close() throws IOException {
        try {
            connection.close();
        } catch (IOException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
    }
}
