package dev.outpost.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy a test puts between a client and a server and breaks on demand, the way links to remote sites break:
 * <ul>
 * <li>{@link #pass()}: forwards both ways (the default);</li>
 * <li>{@link #down()}: the listening port is closed (connects are refused) and open connections are cut; the next
 * mode binds the same port again;</li>
 * <li>{@link #stall()}: connections are accepted and kept, nothing is forwarded either way (a black hole);</li>
 * <li>{@link #dropResponses()}: half-open, client to server is forwarded, every answer is read and thrown away;</li>
 * <li>{@link #cutAfter(long)}: half-open the other way, each connection forwards that many bytes to the server and then
 * reads nothing more from either side;</li>
 * <li>{@link #slow(long, Duration)}: forwards at a rate (one budget per direction shared by all connections, like
 * one narrow link) with a one-way latency added to every byte (e.g. 4000 B/s and 600 ms: a satellite link).</li>
 * </ul>
 * Plain blocking sockets, two threads per direction of a connection (reader and writer, so latency is a pipeline and
 * not a per-chunk stop); loopback only. A mode applies to open connections at once, not only to new ones.
 */
public final class FaultProxy implements AutoCloseable {
    public enum Mode { PASS, DOWN, STALLED, DROP_RESPONSES, CUT_AFTER, SLOW }

    private record State(Mode mode, long cutAfter, Throttle up, Throttle down, long latencyNanos) {
    }

    private static final State PASSING = new State(Mode.PASS, 0, null, null, 0);
    private static final int CHUNK = 16 * 1024;
    private static final int SLOW_CHUNK = 512;

    private final InetSocketAddress target;
    private final Set<Connection> open = ConcurrentHashMap.newKeySet();
    private final AtomicLong forwardedUp = new AtomicLong();
    private final AtomicLong forwardedDown = new AtomicLong();
    private final AtomicLong accepted = new AtomicLong();
    private final Object changed = new Object();
    private volatile State state = PASSING;
    private volatile boolean closed;
    private ServerSocket listener;
    private int port;

    private FaultProxy(InetSocketAddress target) {
        this.target = target;
    }

    /** Listens on a free loopback port and forwards to {@code target}. */
    public static FaultProxy start(InetSocketAddress target) {
        FaultProxy p = new FaultProxy(target);
        p.listen();
        return p;
    }

    public static FaultProxy to(int targetPort) {
        return start(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort));
    }

    public int port() {
        return port;
    }

    public Mode mode() {
        return state.mode();
    }

    /** Bytes written to the server / to clients so far (what actually crossed, not what was read and dropped). */
    public long forwardedUp() {
        return forwardedUp.get();
    }

    public long forwardedDown() {
        return forwardedDown.get();
    }

    /** Connections accepted so far. */
    public long accepted() {
        return accepted.get();
    }

    public void pass() {
        set(PASSING);
    }

    public void down() {
        set(new State(Mode.DOWN, 0, null, null, 0));
    }

    public void stall() {
        set(new State(Mode.STALLED, 0, null, null, 0));
    }

    public void dropResponses() {
        set(new State(Mode.DROP_RESPONSES, 0, null, null, 0));
    }

    public void cutAfter(long bytes) {
        set(new State(Mode.CUT_AFTER, bytes, null, null, 0));
    }

    public void slow(long bytesPerSecond, Duration latency) {
        set(new State(Mode.SLOW, 0, new Throttle(bytesPerSecond), new Throttle(bytesPerSecond), latency.toNanos()));
    }

    private synchronized void set(State next) {
        if (closed) {
            throw new IllegalStateException("proxy closed");
        }
        State before = state;
        state = next;
        if (next.mode() == Mode.DOWN) {
            closeListener();
            for (Connection c : open) {
                c.close();
            }
        } else if (before.mode() == Mode.DOWN) {
            listen();
        }
        synchronized (changed) {
            changed.notifyAll();
        }
    }

    private synchronized void listen() {
        try {
            ServerSocket s = new ServerSocket();
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
            port = s.getLocalPort();
            listener = s;
            daemon("fault-proxy-accept-" + port, () -> accept(s));
        } catch (IOException e) {
            throw new UncheckedIOException("fault proxy cannot listen on port " + port, e);
        }
    }

    private synchronized void closeListener() {
        if (listener != null) {
            quietly(listener);
            listener = null;
        }
    }

    private void accept(ServerSocket s) {
        while (!s.isClosed()) {
            Socket client;
            try {
                client = s.accept();
            } catch (IOException e) {
                return;
            }
            accepted.incrementAndGet();
            if (state.mode() == Mode.DOWN) {
                quietly(client);
                continue;
            }
            daemon("fault-proxy-conn", () -> connect(client));
        }
    }

    private void connect(Socket client) {
        Socket server = new Socket();
        try {
            server.connect(target, 5000);
        } catch (IOException e) {
            // The server is down: the client sees its connection closed, as through any relay.
            quietly(server);
            quietly(client);
            return;
        }
        Connection c = new Connection(client, server);
        open.add(c);
        if (closed || state.mode() == Mode.DOWN) {
            c.close();
            return;
        }
        c.start();
    }

    /** Blocks while the mode is {@code m} (or, for CUT_AFTER, while it still is). */
    private void waitWhile(Mode m, Connection c) throws InterruptedException {
        synchronized (changed) {
            while (state.mode() == m && !c.closed) {
                changed.wait(100);
            }
        }
    }

    private record Chunk(byte[] bytes, long deliverAt) {
        static final Chunk EOF = new Chunk(new byte[0], 0);
    }

    private final class Connection {
        private final Socket client;
        private final Socket server;
        private final AtomicLong sentUp = new AtomicLong();
        private volatile boolean closed;

        Connection(Socket client, Socket server) {
            this.client = client;
            this.server = server;
        }

        void start() {
            pipe(client, server, true);
            pipe(server, client, false);
        }

        private void pipe(Socket from, Socket to, boolean up) {
            BlockingQueue<Chunk> queue = new ArrayBlockingQueue<>(64);
            daemon("fault-proxy-read-" + (up ? "up" : "down"), () -> read(from, queue, up));
            daemon("fault-proxy-write-" + (up ? "up" : "down"), () -> write(to, queue, up));
        }

        private void read(Socket from, BlockingQueue<Chunk> queue, boolean up) {
            try (InputStream in = from.getInputStream()) {
                byte[] buf = new byte[CHUNK];
                while (!closed) {
                    State s = state;
                    if (s.mode() == Mode.STALLED) {
                        waitWhile(Mode.STALLED, this);
                        continue;
                    }
                    if (up && s.mode() == Mode.CUT_AFTER && sentUp.get() >= s.cutAfter()) {
                        waitWhile(Mode.CUT_AFTER, this);
                        continue;
                    }
                    int n = in.read(buf, 0, s.mode() == Mode.SLOW ? SLOW_CHUNK : CHUNK);
                    if (n < 0) {
                        queue.put(Chunk.EOF);
                        return;
                    }
                    s = state;
                    // A read that was blocked when the mode changed: hold what it got as the new mode says.
                    while (s.mode() == Mode.STALLED && !closed) {
                        waitWhile(Mode.STALLED, this);
                        s = state;
                    }
                    if (!up && s.mode() == Mode.DROP_RESPONSES) {
                        continue;
                    }
                    if (up && s.mode() == Mode.CUT_AFTER) {
                        long room = Math.max(0, s.cutAfter() - sentUp.get());
                        n = (int) Math.min(n, room);
                    }
                    if (up) {
                        sentUp.addAndGet(n);
                    }
                    if (n > 0) {
                        long deliverAt = s.mode() == Mode.SLOW ? System.nanoTime() + s.latencyNanos() : 0;
                        queue.put(new Chunk(Arrays.copyOf(buf, n), deliverAt));
                    }
                }
            } catch (IOException | InterruptedException e) {
                close();
            }
        }

        private void write(Socket to, BlockingQueue<Chunk> queue, boolean up) {
            try {
                OutputStream out = to.getOutputStream();
                while (!closed) {
                    // Polled, not taken: a connection closed by its reader's failure puts no end marker, and a
                    // writer blocked in take() outlived it (sixteen of them were alive at the end of a site run).
                    Chunk c = queue.poll(200, java.util.concurrent.TimeUnit.MILLISECONDS);
                    if (c == null) {
                        continue;
                    }
                    if (c == Chunk.EOF) {
                        to.shutdownOutput();
                        return;
                    }
                    State s = state;
                    if (s.mode() == Mode.SLOW) {
                        sleepUntil(c.deliverAt());
                        sleepUntil((up ? s.up() : s.down()).reserve(System.nanoTime(), c.bytes().length));
                    }
                    out.write(c.bytes());
                    out.flush();
                    (up ? forwardedUp : forwardedDown).addAndGet(c.bytes().length);
                }
            } catch (IOException | InterruptedException e) {
                close();
            }
        }

        void close() {
            closed = true;
            open.remove(this);
            quietly(client);
            quietly(server);
        }
    }

    private static void sleepUntil(long nanoTime) throws InterruptedException {
        long wait = nanoTime - System.nanoTime();
        if (wait > 0) {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
    }

    private static void daemon(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
    }

    private static void quietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            // closing: nothing left to do
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeListener();
        for (Connection c : open) {
            c.close();
        }
        synchronized (changed) {
            changed.notifyAll();
        }
    }
}
