package dev.outpost.appliance.admin;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;

/**
 * One connection to the admin socket whose every wait is bounded: the appliance must make progress (take bytes,
 * send bytes) at least once per {@code idle}, or the call fails and says so.
 *
 * <p>A blocking {@link SocketChannel} has no read timeout. An appliance that accepted the request but never answered
 * (its database hung, its workers all taken) held the CLI, and every script or test behind it, for ever.
 */
final class AdminChannel implements Closeable {
    private final Path socket;
    private final SocketChannel ch;
    private final Selector selector;
    private final SelectionKey key;
    private final Duration idle;

    private AdminChannel(Path socket, SocketChannel ch, Selector selector, Duration idle) throws IOException {
        this.socket = socket;
        this.ch = ch;
        this.selector = selector;
        this.idle = idle;
        ch.configureBlocking(false);
        this.key = ch.register(selector, 0);
    }

    /** Connects (a Unix socket connects at once or fails: no wait to bound). */
    static AdminChannel open(Path socket, Duration idle) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            ch.close();
            throw new IOException("cannot reach the appliance's admin socket " + socket + " (" + e.getMessage()
                    + "): is `outpost-appliance run` up, and may this user open the socket?", e);
        }
        Selector selector = null;
        try {
            selector = Selector.open();
            return new AdminChannel(socket, ch, selector, idle);
        } catch (IOException | RuntimeException e) {
            ch.close();
            if (selector != null) {
                selector.close();
            }
            throw e;
        }
    }

    void writeFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (ch.write(b) == 0) {
                await(SelectionKey.OP_WRITE, "take the request");
            }
        }
    }

    /** Reads at least one byte into {@code b} (which has room), or returns -1 at the end of the reply. */
    int read(ByteBuffer b) throws IOException {
        int n;
        while ((n = ch.read(b)) == 0) {
            await(SelectionKey.OP_READ, "answer");
        }
        return n;
    }

    /** The reply as a stream, each read bounded the same way. */
    InputStream input() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] buf, int off, int len) throws IOException {
                return len == 0 ? 0 : AdminChannel.this.read(ByteBuffer.wrap(buf, off, len));
            }
        };
    }

    private void await(int op, String what) throws IOException {
        key.interestOps(op);
        int ready = selector.select(Math.max(1, idle.toMillis()));
        selector.selectedKeys().clear();
        key.interestOps(0);
        if (ready == 0) {
            String waited = idle.toMillis() % 1000 == 0 ? idle.toSeconds() + " s" : idle.toMillis() + " ms";
            throw new IOException("the appliance did not " + what + " on " + socket + " for " + waited
                    + ": it is up but stuck or overloaded (its log and its /health/ready say why); whether this "
                    + "request took effect shows once it answers again");
        }
    }

    @Override
    public void close() throws IOException {
        try {
            selector.close();
        } finally {
            ch.close();
        }
    }
}
