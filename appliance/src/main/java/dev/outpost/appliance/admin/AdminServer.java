package dev.outpost.appliance.admin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.netty.channel.Channel;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.PeerCredentials;
import io.netty.util.AttributeKey;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * The admin API on its Unix socket. Two locks, because the admin API can revoke devices and store policies:
 * <ul>
 * <li>The socket never exists at its path with a mode looser than 0600. bind(2) creates the socket file with
 * the process umask (a chmod afterwards leaves a window in which anyone may connect, and a connection made then
 * stays open), so it is bound inside a fresh 0700 directory next to its path, restricted there, and renamed into
 * place: rename(2) is atomic, and the parent directory's mode and the umask no longer matter.</li>
 * <li>Every connection's peer is checked by SO_PEERCRED: only the service's own user and root are served, so a
 * socket made reachable by mistake (a packager's chmod, a group-writable directory) still serves no one else.</li>
 * </ul>
 */
public final class AdminServer {
    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);
    private static final AttributeKey<Boolean> TRUSTED_PEER = AttributeKey.valueOf("outpost.admin.trustedPeer");
    /** sun_path is 108 bytes including the terminating NUL. */
    private static final int MAX_SOCKET_PATH = 107;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Vertx vertx;
    private final HttpServer server;
    private final Path socket;
    private final long serviceUid;
    // The inode we put at the path: on close we remove only our socket, never a successor's.
    private volatile Object fileKey;

    private AdminServer(Vertx vertx, HttpServer server, Path socket, long serviceUid) {
        this.vertx = vertx;
        this.server = server;
        this.socket = socket;
        this.serviceUid = serviceUid;
    }

    /** Binds the socket (replacing a stale one at the path) and serves {@code api} on it. */
    public static Future<AdminServer> start(Vertx vertx, AdminApi api, Path socket) {
        if (!vertx.isNativeTransportEnabled()) {
            return Future.failedFuture("the admin socket needs Vert.x's native transport (Linux epoll), which did "
                    + "not load: " + vertx.unavailableNativeTransportCause());
        }
        long uid = new com.sun.security.auth.module.UnixSystem().getUid();
        AdminServer s = new AdminServer(vertx,
                // HTTP/1.1 only, like the monitoring port: no h2c upgrade for a client to stall in.
                vertx.createHttpServer(new io.vertx.core.http.HttpServerOptions().setHttp2ClearTextEnabled(false)),
                socket.toAbsolutePath(), uid);
        s.server.connectionHandler(s::checkPeer);
        var router = api.router();
        s.server.requestHandler(req -> {
            // The connection handler has already closed an untrusted connection; this keeps any request that
            // might still be read on one from reaching the API.
            if (!Boolean.TRUE.equals(channel(req.connection()).attr(TRUSTED_PEER).get())) {
                req.connection().close();
                return;
            }
            router.handle(req);
        });
        return vertx.executeBlocking(s::privateDir, false)
                .compose(dir -> s.server.listen(SocketAddress.domainSocketAddress(dir.resolve("s").toString()))
                        .compose(bound -> vertx.executeBlocking(() -> s.moveIntoPlace(dir), false))
                        .recover(err -> {
                            s.server.close();
                            vertx.executeBlocking(() -> removeQuietly(dir), false);
                            return Future.failedFuture(err);
                        }))
                .map(done -> s);
    }

    public Path socket() {
        return socket;
    }

    /** Stops serving and removes the socket file, if it is still ours. */
    public Future<Void> close() {
        return server.close().compose(v -> vertx.executeBlocking(() -> {
            try {
                Object key = Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
                if (fileKey != null && fileKey.equals(key)) {
                    Files.deleteIfExists(socket);
                }
            } catch (IOException ignored) {
                // already gone
            }
            return null;
        }, false));
    }

    private Path privateDir() throws IOException {
        Path parent = socket.getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new IOException("admin socket " + socket + ": directory " + parent + " does not exist");
        }
        Path dir = parent.resolve(".oa-" + HexFormat.of().formatHex(randomBytes(4)));
        if (dir.resolve("s").toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH) {
            throw new IOException("admin socket " + socket + ": the directory's path is too long to bind a Unix "
                    + "socket next to it (at most " + (MAX_SOCKET_PATH - 15) + " bytes)");
        }
        // Created 0700 (the umask can only take bits away), then set to 0700 in case the umask took the owner's.
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        return dir;
    }

    private Void moveIntoPlace(Path dir) throws IOException {
        Path bound = dir.resolve("s");
        try {
            Files.setPosixFilePermissions(bound, PosixFilePermissions.fromString("rw-------"));
            fileKey = Files.readAttributes(bound, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            Files.move(bound, socket, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("admin socket " + socket + ": cannot rename a socket into place from " + dir
                    + " (" + e.getMessage() + ")", e);
        } finally {
            removeQuietly(dir);
        }
        return null;
    }

    private static Void removeQuietly(Path dir) {
        try {
            Files.deleteIfExists(dir.resolve("s"));
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            LOG.warn("admin socket: could not remove the private directory {}: {}", dir, e.getMessage());
        }
        return null;
    }

    private void checkPeer(HttpConnection conn) {
        Channel ch = channel(conn);
        String refusal = refusal(ch);
        if (refusal == null) {
            ch.attr(TRUSTED_PEER).set(Boolean.TRUE);
            return;
        }
        LOG.warn("admin socket {}: refused a connection: {}", socket, refusal);
        conn.close();
    }

    /** Why this peer may not use the admin API, or null when it may. */
    private String refusal(Channel ch) {
        if (!(ch instanceof EpollDomainSocketChannel unix)) {
            return "not a Unix socket connection (" + (ch == null ? "none" : ch.getClass().getSimpleName()) + ")";
        }
        PeerCredentials cred;
        try {
            cred = unix.peerCredentials();
        } catch (IOException e) {
            return "the peer's credentials (SO_PEERCRED) cannot be read: " + e.getMessage();
        }
        if (cred.uid() == serviceUid || cred.uid() == 0) {
            return null;
        }
        return "peer uid " + cred.uid() + " (pid " + cred.pid() + ") is neither the service's user (uid " + serviceUid
                + ") nor root";
    }

    private static Channel channel(HttpConnection conn) {
        return conn instanceof ConnectionBase c ? c.channel() : null;
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }
}
