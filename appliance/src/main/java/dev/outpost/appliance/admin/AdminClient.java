package dev.outpost.appliance.admin;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The admin CLI's side of the admin API: HTTP/1.1 over the appliance's Unix socket, one request per connection.
 * Small on purpose: Vert.x's HTTP client over the socket doubled the CPU time of a whole CLI call (Netty and Vert.x
 * loaded for one request; measured in docs/architecture.md).
 */
public final class AdminClient {
    private static final int MAX_RESPONSE = 16 * 1024 * 1024;

    private final Path socket;

    public AdminClient(Path socket) {
        this.socket = socket;
    }

    /** An HTTP reply: status and body. */
    public record Reply(int status, String body) {
        public boolean ok() {
            return status >= 200 && status < 300;
        }
    }

    public Reply get(String path) throws IOException {
        return send("GET", path, null);
    }

    public Reply post(String path, String json) throws IOException {
        return send("POST", path, json);
    }

    public Reply delete(String path) throws IOException {
        return send("DELETE", path, null);
    }

    /**
     * POSTs to {@code path} and streams a successful reply's body into {@code out} (which must exist: the caller
     * chooses its mode); any other reply comes back as a {@link Reply} with its error body. For replies too large
     * to hold, such as a site backup.
     */
    public Reply download(String path, Path out) throws IOException {
        String head = "POST " + path + " HTTP/1.1\r\nHost: outpost\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            try {
                ch.connect(UnixDomainSocketAddress.of(socket));
            } catch (IOException e) {
                throw new IOException("cannot reach the appliance's admin socket " + socket + " (" + e.getMessage()
                        + "): is `outpost-appliance run` up, and may this user open the socket?", e);
            }
            ch.write(ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII)));
            java.io.InputStream in = new java.io.BufferedInputStream(java.nio.channels.Channels.newInputStream(ch), 64 * 1024);
            ByteArrayOutputStream headers = new ByteArrayOutputStream();
            int matched = 0;
            while (matched < 4) {
                int b = in.read();
                if (b < 0) {
                    return parse(headers.toString(StandardCharsets.UTF_8));
                }
                headers.write(b);
                matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
                if (headers.size() > 64 * 1024) {
                    throw new IOException("admin API reply headers over 64 KiB");
                }
            }
            String raw = headers.toString(StandardCharsets.US_ASCII);
            Reply status = parse(raw);
            if (!status.ok()) {
                byte[] rest = in.readNBytes(MAX_RESPONSE);
                return parse(raw + new String(rest, StandardCharsets.UTF_8));
            }
            java.util.regex.Matcher len = java.util.regex.Pattern.compile("(?im)^content-length:\\s*([0-9]+)\\s*$").matcher(raw);
            if (!len.find()) {
                throw new IOException("admin API sent the backup without a length: cannot tell a whole one from a cut one");
            }
            long expected = Long.parseLong(len.group(1));
            long copied;
            try (java.io.OutputStream o = java.nio.file.Files.newOutputStream(out)) {
                copied = in.transferTo(o);
            }
            if (copied != expected) {
                throw new IOException("the appliance's reply was cut short: " + copied + " of " + expected + " bytes");
            }
            return new Reply(status.status(), "");
        }
    }

    private Reply send(String method, String path, String body) throws IOException {
        byte[] payload = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        String head = method + " " + path + " HTTP/1.1\r\nHost: outpost\r\nConnection: close\r\n"
                + (body == null ? "" : "Content-Type: application/json\r\n")
                + "Content-Length: " + payload.length + "\r\n\r\n";
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            try {
                ch.connect(UnixDomainSocketAddress.of(socket));
            } catch (IOException e) {
                throw new IOException("cannot reach the appliance's admin socket " + socket + " (" + e.getMessage()
                        + "): is `outpost-appliance run` up, and may this user open the socket?", e);
            }
            ch.write(ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII)));
            ch.write(ByteBuffer.wrap(payload));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(8192);
            while (ch.read(buf) > 0) {
                out.write(buf.array(), 0, buf.position());
                buf.clear();
                if (out.size() > MAX_RESPONSE) {
                    throw new IOException("admin API reply over " + MAX_RESPONSE + " bytes");
                }
            }
            return parse(out.toString(StandardCharsets.UTF_8));
        }
    }

    static Reply parse(String raw) throws IOException {
        if (raw.isEmpty()) {
            // What AdminServer does to a peer that is neither the service's user nor root.
            throw new IOException("the appliance closed the connection without an answer: only its own user and "
                    + "root may use the admin socket (the appliance's log names refused peers)");
        }
        int end = raw.indexOf("\r\n\r\n");
        if (!raw.startsWith("HTTP/1.1 ") || end < 0 || !raw.substring(9, Math.min(12, raw.length())).matches("[0-9]{3}")) {
            throw new IOException("admin API sent no HTTP reply");
        }
        int status = Integer.parseInt(raw.substring(9, 12));
        String headers = raw.substring(0, end).toLowerCase(java.util.Locale.ROOT);
        String body = raw.substring(end + 4);
        if (headers.contains("transfer-encoding: chunked")) {
            body = dechunk(body);
        }
        return new Reply(status, body);
    }

    private static String dechunk(String s) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < s.length()) {
            int eol = s.indexOf("\r\n", i);
            if (eol < 0) {
                break;
            }
            int n = Integer.parseInt(s.substring(i, eol).trim(), 16);
            if (n == 0) {
                break;
            }
            out.append(s, eol + 2, eol + 2 + n);
            i = eol + 2 + n + 2;
        }
        return out.toString();
    }
}
