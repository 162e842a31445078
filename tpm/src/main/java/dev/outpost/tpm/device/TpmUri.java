package dev.outpost.tpm.device;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/**
 * Names a TPM: {@code swtpm:tcp://HOST:PORT}, {@code swtpm:unix:///PATH} or {@code device:/dev/tpmrm0}.
 */
public final class TpmUri {
    private static final int CONNECT_TIMEOUT_MS = 5_000;
    // RSA key generation on a slow TPM can take tens of seconds; anything longer is a dead TPM.
    private static final int READ_TIMEOUT_MS = 120_000;

    private final String text;
    private final Kind kind;
    private final String host;
    private final int port;
    private final Path path;

    private enum Kind { TCP, UNIX, DEVICE }

    private TpmUri(String text, Kind kind, String host, int port, Path path) {
        this.text = text;
        this.kind = kind;
        this.host = host;
        this.port = port;
        this.path = path;
    }

    public static TpmUri parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty TPM URI");
        }
        if (text.startsWith("device:")) {
            String p = text.substring("device:".length());
            if (!p.startsWith("/")) {
                throw new IllegalArgumentException("TPM URI " + text + ": device path must be absolute");
            }
            return new TpmUri(text, Kind.DEVICE, null, 0, Path.of(p));
        }
        if (text.startsWith("swtpm:unix://")) {
            String p = text.substring("swtpm:unix://".length());
            if (!p.startsWith("/")) {
                throw new IllegalArgumentException("TPM URI " + text + ": socket path must be absolute");
            }
            return new TpmUri(text, Kind.UNIX, null, 0, Path.of(p));
        }
        if (text.startsWith("swtpm:tcp://")) {
            URI u;
            try {
                u = URI.create(text.substring("swtpm:".length()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("TPM URI " + text + ": " + e.getMessage());
            }
            if (u.getHost() == null || u.getPort() <= 0) {
                throw new IllegalArgumentException("TPM URI " + text + ": needs a host and a port");
            }
            return new TpmUri(text, Kind.TCP, u.getHost(), u.getPort(), null);
        }
        throw new IllegalArgumentException("TPM URI " + text
                + ": expected swtpm:tcp://HOST:PORT, swtpm:unix:///PATH or device:/dev/tpmrm0");
    }

    public TpmTransport open() throws IOException {
        switch (kind) {
            case TCP: {
                Socket s = new Socket();
                try {
                    s.setTcpNoDelay(true);
                    s.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MS);
                    s.setSoTimeout(READ_TIMEOUT_MS);
                    return new StreamTransport(s, s.getInputStream(), s.getOutputStream(), text);
                } catch (IOException e) {
                    s.close();
                    throw new IOException("cannot reach TPM at " + text + ": " + e.getMessage(), e);
                }
            }
            case UNIX: {
                SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                try {
                    ch.connect(UnixDomainSocketAddress.of(path));
                } catch (IOException e) {
                    ch.close();
                    throw new IOException("cannot reach TPM at " + text + ": " + e.getMessage(), e);
                }
                return new StreamTransport(ch, Channels.newInputStream(ch), Channels.newOutputStream(ch), text);
            }
            default:
                return new CharDeviceTransport(path);
        }
    }

    @Override
    public String toString() {
        return text;
    }
}
